// The drawing pad (demo/page/pad.py), run by Gradio's gr.HTML as js_on_load: `element` is the component's root and
// `props` its template values (demo/page/pad.py: pad_props). The browser keeps the strokes and sends the whole drawing
// as JSON, at most every INTERVAL ms while the pen moves and once more, settled, at pen-up (and after Clear, Undo,
// an example or a new pen width), never with more than one update in flight.
//
// Updates go to the app's live route (demo/server/live_route.py), which answers with the views' HTML; while the pen
// moves only the views on screen are asked for (the network overview at most every OVERVIEW_INTERVAL ms and in
// every other update), a settled update asks for all. Where the app has no live route
// (`gradio demo/app.py`), the pad falls back to Gradio's own event: it sets props.value and Gradio fires the
// component's change event. After a settled update, an open lesson tab is recomputed through that same event with
// the new model input.
//
// Its words are props.words, the catalogue's [js.pad] and [page.pad] in every language (demo/texts, texts.js):
// text('busy') is one, in the page's language, its {name}s filled in.
const canvas = element.querySelector('canvas');
const ctx = canvas.getContext('2d');
const pen = element.querySelector('#pen-width');

const INTERVAL = props.send_interval;
const OVERVIEW_INTERVAL = props.overview_interval;  // the overview's pictures follow the pen a little behind
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
// The live views by name (demo/views/live.py LIVE_VIEWS) and the element id of each.
const VIEWS = {prediction: 'prediction', probabilities: 'probabilities', model_input: 'model-input',
               feature_maps: 'feature-maps', pooled_maps: 'pooled-maps', notice: 'notice', overview: 'overview'};
const onScreen = new Set(['prediction', 'probabilities', 'overview']);  // the first screen, until the watcher says
const watcher = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const name = entry.target.dataset.liveView;
    if (entry.isIntersecting) onScreen.add(name); else onScreen.delete(name);
  }
});
function watchViews() {  // the views' Gradio containers stay put when their content is replaced
  for (const name of Object.keys(VIEWS)) {
    const box = document.getElementById('live-' + VIEWS[name]);
    if (box && !box.dataset.liveView) { box.dataset.liveView = name; watcher.observe(box); }
  }
}
function showView(html) {
  // The new content goes into the element already on the page (same id), attributes and all: Gradio keeps
  // track of the nodes it rendered, so they are updated, never swapped.
  const t = document.createElement('template');
  t.innerHTML = html.trim();
  const fresh = t.content.firstElementChild;
  const el = fresh && document.getElementById(fresh.id);
  if (!el) return;
  for (const a of [...el.attributes]) if (!fresh.hasAttribute(a.name)) el.removeAttribute(a.name);
  for (const a of fresh.attributes) el.setAttribute(a.name, a.value);
  el.innerHTML = fresh.innerHTML;
}
function lessonOpen() {  // a teaching tab that is recomputed for each drawing is on screen
  return [...document.querySelectorAll('.recomputed-lesson')].some((tab) => tab.checkVisibility());
}
function notice(message) {  // text, never HTML: a message from the server is shown as it is
  const box = document.createElement('div');
  box.textContent = message;
  showView('<div id="notice" class="notice warning" role="status">' + box.innerHTML + '</div>');
}
// In a class room the room's own route reads the drawing (?room=CODE, or --classroom's room as room_address.js finds
// it): with the network the class taught its symbols once it has, and, with several machines, on the machine that
// holds the room (the balancer routes it by the code). Elsewhere the plain live route and the shipped network.
const LIVE_URL = (() => {
  const rooms = props.rooms || {};
  const code = (new URLSearchParams(location.search).get('room') || '').toUpperCase().replace(/[\s-]/g, '');
  if (rooms.started && rooms.code_pattern && new RegExp(rooms.code_pattern).test(code)) {
    return `convscope/rooms/${code}/live`;
  }
  return rooms.main_room && props.live_url ? 'convscope/room/live' : props.live_url;
})();
let live = !!LIVE_URL;  // false once the app turns out to have no live route
let inFlight = false;
let next = null;      // the latest update waiting to be sent (only the latest matters: each is the whole drawing)
let busyTries = 0;
let overviewSent = -Infinity;  // when a moving update last asked for the overview
let overviewLast = false;      // did the previous moving update ask for it?
async function transmit() {
  const job = next;
  next = null;
  inFlight = true;
  let views = null;  // settled: every view
  if (!job.settled) {
    views = [...onScreen];
    const now = performance.now();
    // At most every OVERVIEW_INTERVAL ms, and never in two moving updates in a row (when the server is slow to
    // answer, the updates are further apart than that: this halves the overview's cost for a busy class).
    const due = now - overviewSent >= OVERVIEW_INTERVAL && !overviewLast;
    if (!due) views = views.filter((v) => v !== 'overview');
    overviewLast = due && onScreen.has('overview');
    if (overviewLast) overviewSent = now;
  }
  const body = {...job.drawing, views: views, input: job.settled};
  try {
    const r = await fetch(LIVE_URL, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                     body: JSON.stringify(body)});
    if (r.status === 404 || r.status === 405) {  // no live route here: Gradio's event from now on
      live = false;
      if (!next) props.value = JSON.stringify(job.drawing);
    } else if (r.status === 503) {  // the class is drawing a lot at once: try again in a moment
      notice(text('busy'));
      if (!next && job.settled && busyTries < 20) {
        busyTries += 1;
        await new Promise((resolve) => setTimeout(resolve, 250 + 250 * Math.random()));
        next = job;
      }
    } else {
      busyTries = 0;
      const answer = await r.json();
      if (answer.html) {
        for (const html of Object.values(answer.html)) showView(html);
      } else {
        notice(answer.error || text('read_error', {status: r.status}));
      }
      if (answer.input !== undefined && !next) {
        if (window.convscopeLessonInput) window.convscopeLessonInput(answer.input);  // for the lesson tabs
        if (lessonOpen()) props.value = JSON.stringify({kind: 'lesson-input', input: answer.input, seq: job.drawing.seq});
      }
    }
  } catch (err) {  // the network, not the drawing: keep the pad, say so
    notice(text('unreachable'));
  }
  inFlight = false;
  if (next) transmit();
}
function send(settled = true) {
  if (timer !== null) { clearTimeout(timer); timer = null; }
  lastSent = performance.now();
  seq += 1;
  canvas.dataset.seq = seq;  // tests compare it with #prediction's data-seq
  const drawing = {w: canvas.width, h: canvas.height, pen: +pen.value, seq: seq, strokes: strokes};
  if (!live) { props.value = JSON.stringify(drawing); return; }
  watchViews();
  next = {drawing: drawing, settled: settled};
  if (!inFlight) transmit();
}
function sendSoon() {  // throttle: at most one update per INTERVAL while the pen moves
  const wait = INTERVAL - (performance.now() - lastSent);
  if (wait <= 0) send(false);
  else if (timer === null) timer = setTimeout(() => { timer = null; if (drawing) send(false); }, wait);
}
// Classroom mode's "freeze" (demo/page/classroom.py) keeps the drawing on screen while the teacher talks.
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
// For the class room (demo/page/static/send.js, room.js): the drawing as it would be sent, and a sent drawing loaded
// into this pad (the teacher's click on a pupil's drawing; it is read like any drawing, even while frozen).
window.convscopePad = {
  drawing: () => ({w: canvas.width, h: canvas.height, pen: +pen.value, strokes: strokes}),
  load: (d) => {
    const sx = canvas.width / d.w, sy = canvas.height / d.h;
    strokes = d.strokes.map((s) => s.map(([x, y]) => [Math.round(x * sx * 10) / 10, Math.round(y * sy * 10) / 10]));
    pen.value = Math.round(d.pen * Math.min(sx, sy));
    redraw();
    send();
  },
};
redraw();
function relabelMore() {  // the example buttons' titles name their digit (and style)
  const buttons = [...element.querySelectorAll('.example-button')];
  buttons.forEach((b) => {
    const styles = buttons.filter((o) => o.dataset.digit === b.dataset.digit).length;
    b.title = styles > 1 ? text('example_style_title', {digit: b.dataset.digit, style: b.dataset.style})
      : text('example_title', {digit: b.dataset.digit});
  });
}
