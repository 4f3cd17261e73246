// Start a class, or join one (the header's controls: demo/page/layout.py, class_controls_html), run with the header's
// script. "Start a class" asks the server for a new room (POST convscope/rooms, demo/server/rooms_routes.py) and
// opens its teacher's page: the same page with ?room=CODE and the token in the fragment. A pupil types the code (in
// any case, with or without spaces) and opens ?room=CODE. On a page in a room the header says which, with a way out.
// The server writes the header again in the visitor's language when the page loads, so the controls are found at
// each use (events are listened to on the header's element, which stays) and the room's line is put in again.
// props.started: whether teachers may start rooms here (not with --no-rooms).
//
// Its words (texts.js: props.words, in the page's language) are the catalogue's [js.class_start] (demo/texts); the
// controls' own are the header's.
function say(line) {
  const status = element.querySelector('#class-start-status');
  if (status) status.textContent = line;
}
function showRoom() {  // in a room: which one, and the way back to the plain page
  const out = element.querySelector('#class-start-bar');
  const inside = element.querySelector('.class-in');
  if (!out || !inside || !ROOM_CODE) return;
  out.hidden = true;
  inside.hidden = false;
  const name = text(TEACHER_TOKEN ? 'teaching_class' : 'in_class', {code: ROOM_CODE});
  const shown = element.querySelector('#class-name');
  if (shown.textContent !== name) shown.textContent = name;
}
showRoom();
new MutationObserver(showRoom).observe(element, {childList: true, subtree: true});
function relabelMore() { showRoom(); }
element.addEventListener('click', async (e) => {
  const button = e.target.closest('#start-class');
  if (!button) return;
  button.disabled = true;
  say(text('starting'));
  try {
    const r = await fetch('convscope/rooms', {method: 'POST', credentials: 'same-origin'});
    const answer = await r.json().catch(() => ({}));
    if (!r.ok) { say(text('start_failed', {error: answer.error || r.status})); return; }
    location.assign(answer.teacher);  // the teacher's page of the new room
  } catch (err) {
    say(text('unreachable'));
  } finally {
    button.disabled = false;
  }
});
element.addEventListener('submit', (e) => {
  if (!e.target.closest('#join-class')) return;
  e.preventDefault();
  const box = element.querySelector('#class-code');
  const typed = box.value.toUpperCase().replace(/[\s-]/g, '');
  if (!new RegExp(props.code_pattern).test(typed)) { say(text('bad_code')); box.focus(); return; }
  location.assign(`?room=${typed}`);
});
