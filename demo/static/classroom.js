// Classroom mode's toolbar (demo/classroom.py), run by Gradio's gr.HTML as js_on_load (`element` is the toolbar).
// Everything runs in the browser, so stepping through the layers is instant. The stepper hides the steps after the
// current one with one global style rule, which survives each re-render of the layer-by-layer view.
let step = 1;
const style = document.createElement('style');
style.id = 'reveal-style';
document.head.appendChild(style);
const label = element.querySelector('#step-label');
function total() {
  const net = document.querySelector('#network');
  return net ? +(net.dataset.steps || 0) : 0;
}
function show() {
  const n = total();
  if (n && step > n) step = n;
  style.textContent = `#network .net-step:nth-child(n+${step + 1}) { display: none; }`;
  const current = document.querySelector(`#network .net-step[data-step="${step}"] figcaption`);
  label.textContent = n ? `step ${step} of ${n}` + (current ? `: ${current.innerText.replace(/^\d+\s*/, '')}` : '')
                        : 'draw a digit first';
  document.body.dataset.revealStep = step;
}
element.querySelector('#step-forward').addEventListener('click', () => {
  step = Math.min(step + 1, total() || 1);
  show();
});
element.querySelector('#step-back').addEventListener('click', () => {
  step = Math.max(step - 1, 1);
  show();
});
element.querySelector('#step-all').addEventListener('click', () => {
  step = total() || 1;
  show();
});
const freeze = element.querySelector('#freeze');
freeze.addEventListener('click', () => {
  const on = document.body.classList.toggle('convscope-frozen');
  freeze.setAttribute('aria-pressed', on ? 'true' : 'false');
  freeze.textContent = on ? 'Frozen: click to draw again' : 'Freeze drawing';
});
element.querySelector('#theme-toggle').addEventListener('click', () => { document.body.classList.toggle('dark'); });
// Classroom mode starts dark (high contrast on a projector). The label follows re-rendered views by polling twice
// a second: a MutationObserver on the page would also see Gradio's own constant DOM updates.
document.body.classList.add('dark');
setInterval(show, 500);
show();
