// Shared by the class room's scripts (demo/page/assets.py: with_room puts it in front of send.js, room.js,
// classroom.js and class_start.js): which class room this page is in, and the teacher's token for it.
// A page opened with ?room=CODE is in the room with that code (its routes: convscope/rooms/CODE/...); without one,
// it is in --classroom's room when the app has one (props.main_room; convscope/room/...), else in none.
// The teacher's token arrives in the fragment (#teacher=TOKEN), which the browser never sends, so no proxy or
// server log sees it. The first script to run moves it into this tab's sessionStorage, under the room's own key (a
// reload keeps the teacher's page), and out of the address bar (pupils can read a projected address bar).
const ROOM_CODE = (() => {
  const typed = (new URLSearchParams(location.search).get('room') || '').toUpperCase().replace(/[\s-]/g, '');
  return new RegExp(props.code_pattern).test(typed) ? typed : null;
})();
const IN_ROOM = ROOM_CODE !== null || props.main_room === true;
const ROOM_ROUTE = ROOM_CODE ? `convscope/rooms/${ROOM_CODE}` : 'convscope/room';
const TEACHER_KEY = ROOM_CODE ? `convscope-teacher-${ROOM_CODE}` : 'convscope-teacher';
{
  const parts = location.hash.replace(/^#/, '').split('&').filter((p) => p !== '');
  const given = parts.find((p) => p.startsWith('teacher='));
  if (given !== undefined && IN_ROOM) {
    sessionStorage.setItem(TEACHER_KEY, decodeURIComponent(given.slice('teacher='.length)));
    const rest = parts.filter((p) => !p.startsWith('teacher=')).join('&');
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? '#' + rest : ''));
  }
}
const TEACHER_TOKEN = IN_ROOM ? sessionStorage.getItem(TEACHER_KEY) : null;
