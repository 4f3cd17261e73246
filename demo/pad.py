"""The live drawing pad: a ``<canvas>`` inside a Gradio ``gr.HTML`` component.

The browser keeps the strokes (lists of points) and sends them as compact JSON — throttled while the pen moves and
once more on pen-up — by setting ``props.value``; Gradio fires the component's ``change`` event for each new value,
and the server rasterises the strokes (demo/strokes.py). Mouse, pen and touch all arrive as pointer events.

``${value}`` is deliberately absent from the template, so a new value never re-renders (and wipes) the canvas.
"""

from __future__ import annotations

import json

from . import theme
from .examples import EXAMPLES, example_strokes

PAD_HTML = """
<div id="pad" class="pad">
  <canvas width="{{size}}" height="{{size}}" aria-label="drawing pad: draw a digit with the mouse, a pen or a finger"
          data-testid="pad-canvas"></canvas>
  <div class="pad-tools">
    <button type="button" id="undo" class="pad-button" title="Undo the last stroke">Undo</button>
    <button type="button" id="clear" class="pad-button" title="Clear the pad">Clear</button>
    <label class="pen-label">Pen <input type="range" id="pen-width" min="{{pen_min}}" max="{{pen_max}}"
           value="{{pen}}" aria-label="pen width"></label>
  </div>
  <div class="pad-examples" id="examples"><span class="examples-title">Examples:</span>{{{example_buttons}}}</div>
</div>
"""

PAD_CSS = """
.pad { display: flex; flex-direction: column; gap: 8px; align-items: stretch; max-width: 360px; }
.pad canvas { width: 100%; aspect-ratio: 1 / 1; background: #000; border-radius: 8px; cursor: crosshair;
  touch-action: none; border: 2px solid #475569; box-sizing: border-box; }
.pad-tools { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.pad-button { padding: 6px 14px; border-radius: 6px; border: 1px solid #94a3b8; background: #f1f5f9; color: #0f172a;
  font-weight: 600; cursor: pointer; }
.pad-button:hover { background: #e2e8f0; }
.pen-label { display: flex; gap: 6px; align-items: center; font-size: 0.9em; }
.pad-examples { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.examples-title { font-size: 0.85em; margin-right: 4px; }
.example-button { min-width: 30px; padding: 3px 8px; border-radius: 6px; border: 1px solid #94a3b8;
  background: #fff; color: #0f172a; cursor: pointer; font-weight: 600; }
"""

PAD_JS = """
const canvas = element.querySelector('canvas');
const ctx = canvas.getContext('2d');
const pen = element.querySelector('#pen-width');

const INTERVAL = props.send_interval;
let strokes = [];      // finished and current strokes, each a list of [x, y] in canvas pixels
let drawing = false;   // pen down?
let seq = 0;           // update counter, echoed back by the server (data-seq on #prediction)
let lastSent = 0;
let timer = null;

function point(e) {
  const r = canvas.getBoundingClientRect();
  return [Math.round((e.clientX - r.left) * canvas.width / r.width * 10) / 10,
          Math.round((e.clientY - r.top) * canvas.height / r.height * 10) / 10];
}
function strokePath(s) {
  ctx.beginPath();
  ctx.moveTo(s[0][0], s[0][1]);
  if (s.length === 1) ctx.lineTo(s[0][0] + 0.01, s[0][1]);
  for (let i = 1; i < s.length; i++) ctx.lineTo(s[i][0], s[i][1]);
  ctx.stroke();
}
function redraw() {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = '#fff';
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.lineWidth = +pen.value;
  for (const s of strokes) strokePath(s);
}
function send() {
  if (timer !== null) { clearTimeout(timer); timer = null; }
  lastSent = performance.now();
  seq += 1;
  canvas.dataset.seq = seq;  // tests compare it with #prediction's data-seq
  props.value = JSON.stringify({w: canvas.width, h: canvas.height, pen: +pen.value, seq: seq, strokes: strokes});
}
function sendSoon() {  // throttle: at most one update per INTERVAL while the pen moves
  const wait = INTERVAL - (performance.now() - lastSent);
  if (wait <= 0) send();
  else if (timer === null) timer = setTimeout(() => { timer = null; if (drawing) send(); }, wait);
}
// Classroom mode's "freeze" (demo/classroom.py) keeps the drawing on screen while the teacher talks.
const frozen = () => document.body.classList.contains('convscope-frozen');
canvas.addEventListener('pointerdown', (e) => {
  if (e.button !== undefined && e.button > 0) return;
  if (frozen()) return;
  e.preventDefault();
  try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* synthetic or already-ended pointer */ }
  drawing = true;
  strokes.push([point(e)]);
  redraw();
  sendSoon();
});
canvas.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  e.preventDefault();
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  const s = strokes[strokes.length - 1];
  for (const ev of (events.length ? events : [e])) s.push(point(ev));
  redraw();
  sendSoon();
});
function penUp(e) {
  if (!drawing) return;
  drawing = false;
  try { canvas.releasePointerCapture(e.pointerId); } catch (err) { /* capture already gone */ }
  send();  // the settled drawing, immediately (also cancels a pending throttled send)
}
canvas.addEventListener('pointerup', penUp);
canvas.addEventListener('pointercancel', penUp);
element.querySelector('#clear').addEventListener('click', () => { if (frozen()) return; strokes = []; redraw(); send(); });
element.querySelector('#undo').addEventListener('click', () => { if (frozen()) return; strokes.pop(); redraw(); send(); });
pen.addEventListener('input', () => { redraw(); });
pen.addEventListener('change', () => { if (strokes.length) send(); });
element.querySelectorAll('.example-button').forEach((b) => b.addEventListener('click', () => {
  if (frozen()) return;
  strokes = JSON.parse(JSON.stringify(props.examples[+b.dataset.index].strokes));
  redraw();
  send();
}));
redraw();
"""


def pad_examples() -> tuple[list[dict], str]:
    """The example drawings as pad strokes, and the buttons that load them."""
    examples, buttons = [], []
    for digit, styles in EXAMPLES.items():
        for style in range(len(styles)):
            strokes = example_strokes(digit, style, theme.PAD_SIZE, theme.PAD_SIZE, pad=0.18)
            examples.append({"digit": digit, "strokes": [[[round(x, 1), round(y, 1)] for x, y in s] for s in strokes]})
            title = f"example: a {digit}" + (f" (style {style + 1})" if len(styles) > 1 else "")
            buttons.append(f'<button type="button" class="example-button" data-index="{len(examples) - 1}" '
                           f'title="{title}">{digit}</button>')
    return examples, "".join(buttons)


def pad_props() -> dict:
    """Template values for :data:`PAD_HTML` and the JS (``props.*``)."""
    examples, buttons = pad_examples()
    return {"size": theme.PAD_SIZE, "pen": theme.PEN_DEFAULT, "pen_min": theme.PEN_MIN, "pen_max": theme.PEN_MAX,
            "send_interval": theme.SEND_INTERVAL_MS, "examples": examples, "example_buttons": buttons}


def empty_drawing() -> str:
    return json.dumps({"w": theme.PAD_SIZE, "h": theme.PAD_SIZE, "pen": theme.PEN_DEFAULT, "seq": 0, "strokes": []})
