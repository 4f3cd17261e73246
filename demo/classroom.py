"""Classroom mode (``python -m demo --classroom``): large type and high contrast for a 1280×720 projector, the
network revealed one layer at a time, the drawing frozen while the teacher talks, and a dark/light toggle.

Everything here runs in the browser (no server round trip, so stepping is instant): the controls live in a
``gr.HTML`` whose ``js_on_load`` wires them. The layer-by-layer view itself is ``lesson_views.network_html``; the
stepper hides its steps after the current one with one global style rule, so the rule survives each re-render of
the view as the drawing changes.
"""

from __future__ import annotations

CONTROLS_HTML = """
<div id="classroom-controls" class="classroom-controls" role="toolbar" aria-label="classroom controls">
  <button type="button" id="step-back" class="pad-button" title="Hide the last revealed layer">◀ Back</button>
  <span id="step-label" class="step-label" aria-live="polite">step 1</span>
  <button type="button" id="step-forward" class="pad-button" title="Reveal the next layer">Next layer ▶</button>
  <button type="button" id="step-all" class="pad-button" title="Show every layer">Show all</button>
  <button type="button" id="freeze" class="pad-button" aria-pressed="false"
          title="Keep the current drawing: the pad ignores input until unfrozen">Freeze drawing</button>
  <button type="button" id="theme-toggle" class="pad-button" title="Switch between dark and light">Light / dark</button>
</div>
"""

CONTROLS_JS = """
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
  label.textContent = n ? `step ${step} of ${n}` + (current ? `: ${current.innerText.replace(/^\\d+\\s*/, '')}` : '')
                        : 'draw a digit first';
  document.body.dataset.revealStep = step;
}
element.querySelector('#step-forward').addEventListener('click', () => { step = Math.min(step + 1, total() || 1); show(); });
element.querySelector('#step-back').addEventListener('click', () => { step = Math.max(step - 1, 1); show(); });
element.querySelector('#step-all').addEventListener('click', () => { step = total() || 1; show(); });
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
"""

# Large type and strong contrast, sized for 1280×720: the pad, the answer and the current layer fit on one screen.
CLASSROOM_CSS = """
body { font-size: 20px; }
.header h1 { font-size: 2.2em; }
.view-title { font-size: 1.25em; }
.view-note, .explain, .layer-caption, .model-input .step figcaption { font-size: 0.95em; opacity: 1; }
.prediction .digit { font-size: 150px; }
.prediction .confidence { font-size: 1.4em; }
.prob-row { grid-template-columns: 1.6em 1fr 4.2em; }
.prob-track { height: 20px; }
.pad-button { font-size: 1em; padding: 8px 16px; border-width: 2px; }
.classroom-controls { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin: 6px 0; }
.step-label { font-weight: 800; font-size: 1.1em; min-width: 14em; }
body.dark .pad-button { background: #000; color: #fff; border-color: #fff; }
body.dark .prediction { border-color: #ffb000; }
body.dark .prediction .digit { color: #ffb000; }
body.convscope-frozen .pad canvas { border-color: #38bdf8; border-width: 4px; cursor: not-allowed; }
#freeze[aria-pressed="true"] { background: #0369a1; color: #fff; }
"""
