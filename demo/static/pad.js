// The drawing pad (demo/pad.py), run by Gradio's gr.HTML as js_on_load: `element` is the component's root and
// `props` its template values (demo/pad.py: pad_props). The browser keeps the strokes and sends the whole drawing as
// JSON by setting props.value, throttled while the pen moves and once more at pen-up; Gradio fires the component's
// change event for each new value.
const canvas = element.querySelector('canvas');
const ctx = canvas.getContext('2d');
const pen = element.querySelector('#pen-width');

const INTERVAL = props.send_interval;
const PAPER = props.paper;  // read once: props is reactive, and redraw() runs on every pen move
const INK = props.ink;
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
  ctx.fillStyle = PAPER;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = INK;
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
element.querySelector('#clear').addEventListener('click', () => {
  if (frozen()) return;
  strokes = [];
  redraw();
  send();
});
element.querySelector('#undo').addEventListener('click', () => {
  if (frozen()) return;
  strokes.pop();
  redraw();
  send();
});
pen.addEventListener('input', () => { redraw(); });
pen.addEventListener('change', () => { if (strokes.length) send(); });
element.querySelectorAll('.example-button').forEach((b) => b.addEventListener('click', () => {
  if (frozen()) return;
  strokes = JSON.parse(JSON.stringify(props.examples[+b.dataset.index].strokes));
  redraw();
  send();
}));
redraw();
