// A pupil's "send to class" bar (demo/page/classroom.py), run by Gradio's gr.HTML as js_on_load. It sends the pad's
// current drawing (window.convscopePad, demo/page/static/pad.js) to the class room with, optionally, the digit the pupil
// meant (one tap; a second tap takes it back) and a nickname (kept in this browser only). The teacher's page is
// room.js; on it this bar is hidden (classroom.css).
//
// The server limits sends per sender and the teacher can block one, so who sends is an identity the server issues:
// `POST <the room's route>/hello` (room_address.js) sets it as an HttpOnly cookie (the page never sees or makes it). The page asks for it
// when it opens, so it is there by the first send; a send answered 401 {"identity": "missing"} (the cookie expired
// or was never set) asks once more and sends again once.
//
// Its words (texts.js: props.words, in the page's language) are the catalogue's [js.send] (demo/texts); the bar's own are in send.html.
const status = element.querySelector('#send-status');
const button = element.querySelector('#send-to-class');
const nickname = element.querySelector('#nickname');
const SEND_URL = `${ROOM_ROUTE}/send`;  // relative to the page, like the live route
const HELLO_URL = `${ROOM_ROUTE}/hello`;
class Refused extends Error {}  // the server's answer, said as it is (not "could not be reached")
// With several machines, the balancer answers for a room whose machine is down (deploy/haproxy.cfg.in).
const roomDown = (answer) => answer.room_server === 'down';
let identity = null;  // the hello in flight or done, so the page asks once
let stored = false;   // has a send from this page been stored yet
function hello() {
  identity = identity || fetch(HELLO_URL, {method: 'POST', credentials: 'same-origin'}).then(async (r) => {
    if (r.ok) return true;
    const answer = await r.json().catch(() => ({}));
    throw new Refused(roomDown(answer) ? text('room_down') : answer.error || text('join_error', {status: r.status}));
  });
  identity.catch(() => { identity = null; });  // a failed hello is asked again at the next send
  return identity;
}
const teacherPage = TEACHER_TOKEN !== null;
if (!IN_ROOM) document.getElementById('class-send').style.display = 'none';  // no class room, no send bar
if (!teacherPage && IN_ROOM) hello().catch(() => {});  // its error, if any, is said at the send
nickname.value = localStorage.getItem('convscope-nickname') || '';
nickname.addEventListener('change', () => localStorage.setItem('convscope-nickname', nickname.value.trim()));
// What the pupil meant: a digit (a number), one of the class's new symbols (its name), or nothing (null).
let meant = null;
const group = element.querySelector('.send-meant');
const ask = element.querySelector('#send-ask');
let symbols = [];  // the class's new symbols, as the teacher named them (GET <room>/classes)
const buttons = () => [...group.querySelectorAll('.meant-button')];
const valueOf = (b) => (b.dataset.symbol !== undefined ? b.dataset.symbol : +b.dataset.digit);
function pick(value) {
  meant = value;
  for (const b of buttons()) b.setAttribute('aria-pressed', String(valueOf(b) === meant));
  if (typeof meant === 'string') say(text('draw_symbol', {name: meant}), 'prompt');
}
group.addEventListener('click', (e) => {
  const b = e.target.closest('.meant-button');
  if (b) pick(meant === valueOf(b) ? null : valueOf(b));
});
// The teacher's symbols (a button each; "Draw: heart."): asked when the page opens, every SYMBOLS_EVERY_MS,
// and when the phone comes back to the page.
const SYMBOLS_EVERY_MS = 15000;
async function askSymbols() {
  try {
    const r = await fetch(`${ROOM_ROUTE}/classes`, {credentials: 'same-origin'});
    if (!r.ok) return;
    const names = (await r.json()).names;
    if (!Array.isArray(names) || names.join('\n') === symbols.join('\n')) return;
    symbols = names.filter((n) => typeof n === 'string');
    for (const b of group.querySelectorAll('.meant-button.symbol')) b.remove();
    for (const name of symbols) {
      const b = document.createElement('button');
      Object.assign(b, {type: 'button', className: 'meant-button symbol', textContent: name});
      b.dataset.symbol = name;
      b.setAttribute('aria-pressed', String(meant === name));
      group.append(b);
    }
    if (typeof meant === 'string' && !symbols.includes(meant)) pick(null);  // the teacher removed it
    askLine();
  } catch (err) { /* asked again later */ }
}
function askLine() {
  ask.hidden = !symbols.length;
  ask.textContent = symbols.length ? text('ask_symbols', {names: symbols.join(', ')}) : '';
}
function relabelMore() { askLine(); }  // in the page's new language
if (!teacherPage && IN_ROOM) {
  askSymbols();
  setInterval(askSymbols, SYMBOLS_EVERY_MS);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) askSymbols(); });
}
function say(line, kind) {
  status.textContent = line;
  status.dataset.kind = kind;  // sent | error | busy | sending
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function post(body) {
  const r = await fetch(SEND_URL, {method: 'POST', credentials: 'same-origin',
                                         headers: {'Content-Type': 'application/json'}, body});
  return [r, await r.json().catch(() => ({}))];
}
async function send() {
  const drawing = window.convscopePad && window.convscopePad.drawing();
  if (!drawing || !drawing.strokes.length) { say(text('draw_first'), 'error'); return; }
  const body = JSON.stringify({drawing: drawing, meant: meant, nickname: nickname.value.trim()});
  button.disabled = true;
  say(text('sending'), 'sending');
  try {
    await hello();
    // The whole class may press Send at once: when the room or the workers are busy, the send waits and tries
    // again by itself a few times (the server says how long).
    let rejoined = false;
    for (let attempt = 0; attempt < 6; attempt++) {
      let [r, answer] = await post(body);
      if (r.status === 401 && answer.identity === 'missing' && !rejoined) {  // once: a second 401 is said
        rejoined = true;
        identity = null;
        await hello();
        [r, answer] = await post(body);
      }
      if (r.ok) {
        stored = true;
        // The class's name: a digit, or one of its symbols once the class's own network reads the room's drawings.
        const read = {label: answer.name ?? answer.label, percent: Math.round(answer.confidence * 100)};
        const flagged = answer.network === 'room' ? 'sent_none_of_these' : 'sent_not_digit';
        say(text(answer.digit_like ? 'sent' : flagged, read), 'sent');
        meant = null;
        for (const b of buttons()) b.setAttribute('aria-pressed', 'false');
        return;
      }
      // A busy room or busy workers: wait and try again. The pupil's own limit is waited out only before this
      // page's first stored send (a new identity may send a moment after it was issued); later it is said, so a
      // double tap is not sent twice. A full room or a blocked device is said at once.
      if (roomDown(answer)) { say(text('room_down'), 'error'); return; }  // not retried: it is said at once
      const joining = answer.limit === 'pupil' && !stored && (answer.retry_after || 0) <= 5;
      const busy = r.status === 503 || answer.limit === 'room' || joining;
      if (!busy || attempt === 5) {
        say(r.status === 503 ? text('busy') : answer.error || text('send_error', {status: r.status}), 'error');
        return;
      }
      if (joining) {
        say(text('sending_soon'), 'busy');
        await sleep(1000 * answer.retry_after + 200);
      } else {
        say(text('class_busy'), 'busy');
        await sleep(1000 * Math.max(1, answer.retry_after || 1) * (0.5 + Math.random()));
      }
    }
  } catch (err) {
    say(err instanceof Refused ? err.message : text('unreachable'), 'error');
  } finally {
    button.disabled = false;
  }
}
button.addEventListener('click', send);
