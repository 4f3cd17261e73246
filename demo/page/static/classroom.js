// Classroom mode's toolbar (demo/page/classroom.py), run by Gradio's gr.HTML as js_on_load (`element` is the toolbar).
// Everything runs in the browser, so stepping through the layers is instant. The stepper reveals the network's
// stages in the order data flows: those of the overview on the first screen (#overview, demo/views/overview.py) and the
// same stages of the Layer by layer tab (#network). Later stages are hidden by one global style rule, which
// survives each re-render of those views. Keys: → or N next, ← or B back, A show all, F freeze, D dark/light.
//
// With class rooms (props.room, demo/server/rooms.py) only a teacher's page is the projector's: pupils get the plain
// page and none of this. A teacher's page is opened with #teacher=TOKEN, which room_address.js keeps for the tab.
//
// Its words (texts.js: props.words, in the page's language) are the catalogue's [js.classroom] (demo/texts); the toolbar's own are in classroom.html.
const teacherPage = !props.room || TEACHER_TOKEN !== null;
if (teacherPage) document.body.classList.add('projector');
let step = 1;
const style = document.createElement('style');
style.id = 'reveal-style';
document.head.appendChild(style);
const label = element.querySelector('#step-label');
function stages() {  // the overview's stage names, in order (the empty overview lists them too)
  return [...document.querySelectorAll('#overview .ov-stage')].map((s) => s.dataset.stage);
}
function show() {
  const names = stages();
  const n = names.length;
  if (n && step > n) step = n;
  const hidden = names.slice(step);
  // The Layer by layer tab calls the probabilities 'answer'.
  const rules = hidden.flatMap((name) => [`body.projector #overview .ov-stage[data-stage="${name}"]`,
    `body.projector #network .net-step[data-stage="${name === 'probabilities' ? 'answer' : name}"]`]);
  style.textContent = rules.length ? `${rules.join(', ')} { display: none; }` : '';
  const drawn = document.querySelector('#overview')?.dataset.state === 'ready';
  const current = document.querySelector(`#overview .ov-stage[data-stage="${names[step - 1]}"] figcaption`);
  label.textContent = !drawn ? text('draw_first')
    : current ? text('step_named', {step: step, count: n, stage: current.innerText.replace(/\s+/g, ' ')})
      : text('step', {step: step, count: n});
  document.body.dataset.revealStep = step;
}
function forward() { step = Math.min(step + 1, stages().length || 1); show(); }
function back() { step = Math.max(step - 1, 1); show(); }
function all() { step = stages().length || 1; show(); }
const freeze = element.querySelector('#freeze');
function toggleFreeze() {
  const on = document.body.classList.toggle('convscope-frozen');
  freeze.setAttribute('aria-pressed', on ? 'true' : 'false');
  freeze.querySelector('.freeze-text').textContent = text(on ? 'frozen' : 'freeze');
}
function toggleTheme() { document.body.classList.toggle('dark'); }
element.querySelector('#step-forward').addEventListener('click', forward);
element.querySelector('#step-back').addEventListener('click', back);
element.querySelector('#step-all').addEventListener('click', all);
freeze.addEventListener('click', toggleFreeze);
element.querySelector('#theme-toggle').addEventListener('click', toggleTheme);
const toRoom = element.querySelector('#to-room');
// smooth, unless the visitor asked for less motion
const scrollBehavior = () => matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth';
function goToRoom() { document.getElementById('class-room')?.scrollIntoView({behavior: scrollBehavior()}); }
toRoom.hidden = !props.room;
toRoom.addEventListener('click', goToRoom);
const KEYS = {ArrowRight: forward, n: forward, N: forward, ArrowLeft: back, b: back, B: back, a: all, A: all,
              f: toggleFreeze, F: toggleFreeze, d: toggleTheme, D: toggleTheme,
              ...(props.room ? {c: goToRoom, C: goToRoom} : {})};
document.addEventListener('keydown', (e) => {
  if (!teacherPage) return;
  if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
  const t = e.target;  // typing in a field or moving a slider keeps its keys
  if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
  if (t && t.closest && t.closest('[role="tablist"]')) return;  // arrow keys move between the tabs there
  const action = KEYS[e.key];
  if (!action) return;
  e.preventDefault();
  action();
});
// Classroom mode starts dark (high contrast on a projector). The label follows re-rendered views by polling twice
// a second: a MutationObserver on the page would also see Gradio's own constant DOM updates.
if (teacherPage) {
  document.body.classList.add('dark');
  setInterval(show, 500);
  show();
}
function relabelMore() {  // the words this script wrote itself: the step label and the freeze button
  show();
  const on = document.body.classList.contains('convscope-frozen');
  freeze.querySelector('.freeze-text').textContent = text(on ? 'frozen' : 'freeze');
}
