// A pupil's "send to class" bar (demo/page/classroom.py), run by Gradio's gr.HTML as js_on_load. It sends the pad's
// current drawing (window.convscopePad, demo/page/static/pad.js) to the class room with, optionally, the digit the pupil
// meant (one tap; a second tap takes it back) and a nickname (kept in this browser only). The teacher's page is
// room.js; on it this bar is hidden (classroom.css).
const status = element.querySelector('#send-status');
const button = element.querySelector('#send-to-class');
const nickname = element.querySelector('#nickname');
const digits = [...element.querySelectorAll('.meant-button')];
// The server allows one send per pupil every few seconds; a pupil is this random id, made once per tab. Not
// crypto.randomUUID: that needs https, and a school network serves plain http.
const pupil = sessionStorage.getItem('convscope-pupil') || [...crypto.getRandomValues(new Uint8Array(12))]
  .map((b) => b.toString(16).padStart(2, '0')).join('');
sessionStorage.setItem('convscope-pupil', pupil);
nickname.value = localStorage.getItem('convscope-nickname') || '';
nickname.addEventListener('change', () => localStorage.setItem('convscope-nickname', nickname.value.trim()));
let meant = null;
for (const b of digits) {
  b.addEventListener('click', () => {
    meant = meant === +b.dataset.digit ? null : +b.dataset.digit;
    for (const other of digits) other.setAttribute('aria-pressed', String(+other.dataset.digit === meant));
  });
}
function say(text, kind) {
  status.textContent = text;
  status.dataset.kind = kind;  // sent | error | busy | sending
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function send() {
  const drawing = window.convscopePad && window.convscopePad.drawing();
  if (!drawing || !drawing.strokes.length) { say('Draw a digit first, then send it.', 'error'); return; }
  const body = JSON.stringify({drawing: drawing, meant: meant, nickname: nickname.value.trim(), pupil: pupil});
  button.disabled = true;
  say('Sending…', 'sending');
  try {
    // The whole class may press Send at once: when the room or the workers are busy, the send waits and tries
    // again by itself a few times (the server says how long).
    for (let attempt = 0; attempt < 6; attempt++) {
      const r = await fetch(props.send_url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body});
      const answer = await r.json().catch(() => ({}));
      if (r.ok) {
        const pct = Math.round(answer.confidence * 100);
        say(`Sent! The network read it as ${answer.label} (${pct} %)` +
            (answer.digit_like ? '.' : ', though it does not look like a digit.'), 'sent');
        meant = null;
        for (const b of digits) b.setAttribute('aria-pressed', 'false');
        return;
      }
      const busy = r.status === 503 || answer.limit === 'room';  // not a pupil's own limit, nor a full room
      if (!busy || attempt === 5) { say(answer.error || `The class room refused the drawing (${r.status}).`, 'error'); return; }
      say('The whole class is sending at once: trying again in a moment…', 'busy');
      await sleep(1000 * Math.max(1, answer.retry_after || 1) * (0.5 + Math.random()));
    }
  } catch (err) {
    say('The class room could not be reached. Your drawing is still here: try again.', 'error');
  } finally {
    button.disabled = false;
  }
}
button.addEventListener('click', send);
