// The class room on the teacher's projector page (demo/page/classroom.py), run by Gradio's gr.HTML as js_on_load.
// The teacher's page is the app opened with #teacher=TOKEN (room_address.js keeps it for this tab and this room).
// Every request carries it in a header and the server checks it (demo/server/room_routes.py): a wrong one gets
// nothing. On a pupil's page this element stays empty.
//
// The server pushes each change of the room (server-sent events; without them the page asks once a second, one short
// answer when nothing changed), and the page then asks what changed and redraws:
// the join link and its QR code, the class's drawings (#class-gallery: one figure per drawing, data-drawing = its
// number, data-label = the network's reading), and the tally of what pupils meant against what the network read.
// The server sends the strokes of a few dozen drawings per answer, saying "more" when others wait; the page then
// asks again at once, so a page opened on a full room fills in a few quick answers.
//
// Its words (texts.js: props.words, in the page's language) are the catalogue's [js.room] (demo/texts): text('reveal_all') is one, its {name}s filled in.
const token = TEACHER_TOKEN;
const ROUTE = ROOM_ROUTE;
const UNSURE = props.unsure;  // below this confidence (or not digit-like) a reading counts as unsure
let version = null;           // the room's version the gallery shows
let have = 0;                 // the highest drawing number whose strokes the page holds
const strokes = new Map();    // drawing number -> its drawing
const figures = new Map();    // drawing number -> its <figure> in the gallery
let drawings = [];            // the room's drawings not hidden, oldest first
let symbols = [];             // the class's new symbols (classes 10, 11, ... after the ten digits)
let wrongFirst = false;
// A class's name: a digit, or one of the class's symbols (a reading by the room's own network, or what a pupil
// meant); '?' for a symbol the teacher has since removed.
const nameOf = (i) => (i < 10 ? String(i) : symbols[i - 10] ?? '?');

function ask(path, body) {
  const options = {headers: {'X-Teacher-Token': token}};
  if (body !== undefined) {
    Object.assign(options, {method: 'POST', body: JSON.stringify(body)});
    options.headers['Content-Type'] = 'application/json';
  }
  return fetch(`${ROUTE}/${path}`, options);
}
function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}
function paint(canvas, d) {  // white ink on black, as on the pad, scaled to the thumbnail
  const ctx = canvas.getContext('2d');
  const scale = Math.min(canvas.width / d.w, canvas.height / d.h);
  ctx.fillStyle = props.paper;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  Object.assign(ctx, {strokeStyle: props.ink, lineCap: 'round', lineJoin: 'round', lineWidth: d.pen * scale});
  for (const s of d.strokes) {
    ctx.beginPath();
    ctx.moveTo(s[0][0] * scale, s[0][1] * scale);
    if (s.length === 1) ctx.lineTo(s[0][0] * scale + 0.01, s[0][1] * scale);
    for (const [x, y] of s.slice(1)) ctx.lineTo(x * scale, y * scale);
    ctx.stroke();
  }
}
// Why a request was refused, in the page's language: with several machines, the balancer answers for a room whose
// machine is down with {"room_server": "down"} (deploy/haproxy.cfg.in); otherwise the server's own words. `down`:
// what to say then (the page asking again by itself, or a teacher's action that was not done).
class Refused extends Error {}  // the server's (or the balancer's) answer, said as it is
async function refusal(r, down = 'room_down') {
  const answer = await r.json().catch(() => ({}));
  return answer.room_server === 'down' ? text(down) : answer.error || text('refused', {status: r.status});
}
const wrong = (d) => d.meant !== null && d.meant !== d.label;
const unsure = (d) => d.confidence < UNSURE || !d.digit_like;

const root = element.querySelector('#class-room');
// For the symbols' panel (room_symbols.js): a drawing's strokes, and painting one as a thumbnail.
window.convscopeRoom = {strokes: (id) => strokes.get(id), paint: paint};
if (!token) {
  root.hidden = true;  // a pupil's page: no room, no controls
} else {
  const qr = h('div', {class: 'room-qr', role: 'img', 'aria-label': text('qr_label')});
  const joinUrl = h('div', {id: 'join-url', class: 'join-url'});
  const count = h('span', {id: 'room-count', class: 'room-count'});
  const order = h('button', {type: 'button', id: 'wrong-first', class: 'pad-button', 'aria-pressed': 'false',
                             title: text('wrong_first_title')}, text('wrong_first'));
  const review = h('input', {type: 'checkbox', id: 'review-first'});
  const revealAll = h('button', {type: 'button', id: 'reveal-all', class: 'pad-button'}, text('reveal_all'));
  const clear = h('button', {type: 'button', id: 'clear-room', class: 'pad-button'}, text('clear_room'));
  // A room with a code (started from the page) shows the code, and can be closed: its drawings are deleted.
  const code = h('div', {id: 'room-code', class: 'room-code', title: text('code_title'),
                         'aria-label': `${text('code_title')}: ${(ROOM_CODE || '').split('').join(' ')}`},
                 ROOM_CODE || '');
  const close = h('button', {type: 'button', id: 'close-class', class: 'pad-button'}, text('close_class'));
  const kept = h('p', {class: 'kept-note'}, text('kept_note'));
  code.hidden = close.hidden = kept.hidden = !ROOM_CODE;
  const gallery = h('div', {id: 'class-gallery', class: 'class-gallery'});
  const tally = h('div', {id: 'class-tally', class: 'class-tally'});
  const message = h('div', {id: 'room-message', class: 'room-message', role: 'status'});
  root.replaceChildren(
    h('div', {class: 'room-side'},
      h('div', {class: 'room-join'}, qr, h('div', {}, h('div', {class: 'join-title'}, text('join_title')), joinUrl,
                                          code, kept)),
      tally),
    h('div', {class: 'room-main'},
      h('div', {class: 'room-bar', role: 'toolbar', 'aria-label': text('controls_label')}, count, order,
        h('label', {class: 'review-label', title: text('review_first_title')}, review,
          ' ' + text('review_first')),
        revealAll, clear, close),
      message, gallery));

  // A teacher's action that was refused stays said (kind 'action') until the room answers again: the page's own
  // asking, which says that the server is not answering, does not cover it.
  function say(line, kind = 'status') {
    message.textContent = line;
    message.dataset.kind = kind;
  }
  async function act(body) {  // whether the server took the action
    try {
      const r = await ask('teacher', body);
      if (!r.ok) { say(await refusal(r, 'room_down_action'), 'action'); return false; }
      await refresh();
      return true;
    } catch (err) {
      say(text('unreachable'), 'action');
      return false;
    }
  }
  function figureFor(d) {
    // the picture is the drawing's button: a click, or Enter or Space on it, loads it into the pad; the caption
    // (what the network read, the digit meant, the nickname) tells one drawing's button from another's
    const canvas = h('canvas', {width: 84, height: 84, class: 'thumb', role: 'button', tabindex: '0',
                                'aria-label': text('load_title'), title: text('load_title'),
                                'aria-describedby': `drawing-caption-${d.id}`});
    paint(canvas, strokes.get(d.id));
    const caption = h('figcaption', {id: `drawing-caption-${d.id}`});
    const hide = h('button', {type: 'button', class: 'hide-drawing', title: text('hide_title')}, '✕');
    const block = h('button', {type: 'button', class: 'block-sender', 'data-action': 'block',
                               title: text('block_title')}, text('block'));
    const show = h('button', {type: 'button', class: 'reveal-drawing pad-button', title: text('reveal_title')},
                   text('reveal'));
    const fig = h('figure', {class: 'class-drawing', role: 'listitem', 'data-drawing': d.id}, canvas, caption, hide,
                  block, show);
    hide.addEventListener('click', (e) => { e.stopPropagation(); act({action: 'hide', id: d.id}); });
    // Two clicks block: the first arms the button for 3 s ("Confirm block"), so a slip of the mouse blocks no one.
    let armed = null;
    block.addEventListener('click', (e) => {
      e.stopPropagation();
      if (armed === null) {
        block.textContent = text('confirm_block');
        block.dataset.armed = 'true';
        armed = setTimeout(() => {
          armed = null;
          block.textContent = text('block');
          delete block.dataset.armed;
        }, 3000);
        return;
      }
      clearTimeout(armed);
      armed = null;
      block.textContent = text('block');
      delete block.dataset.armed;
      act({action: 'block', id: d.id});
    });
    show.addEventListener('click', (e) => { e.stopPropagation(); act({action: 'reveal', id: d.id}); });
    canvas.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      e.preventDefault();
      fig.click();
    });
    fig.addEventListener('click', () => {  // into the main views and the stepper (not while kept for review)
      if (fig.dataset.revealed !== 'true' || !window.convscopePad) return;
      window.convscopePad.load(strokes.get(d.id));
      root.dataset.selected = d.id;
      for (const f of figures.values()) f.classList.toggle('selected', f === fig);
      const calm = matchMedia('(prefers-reduced-motion: reduce)').matches;  // less motion asked for: jump
      document.getElementById('first-screen')?.scrollIntoView({behavior: calm ? 'auto' : 'smooth'});
    });
    return fig;
  }
  function update(fig, d) {
    const attrs = {label: d.label, confidence: d.confidence, meant: d.meant ?? '', revealed: d.revealed,
                   digitLike: d.digit_like, wrong: wrong(d), unsure: unsure(d)};
    for (const [k, v] of Object.entries(attrs)) fig.dataset[k] = String(v);
    fig.querySelector('canvas.thumb').setAttribute('aria-disabled', String(!d.revealed));  // kept back: not loadable
    const caption = fig.querySelector('figcaption');
    if (!d.revealed) { caption.textContent = text('waiting'); return; }
    const read = h('b', {class: 'read'}, d.digit_like ? nameOf(d.label) : `${nameOf(d.label)}?`);
    const parts = [read, ` ${Math.round(d.confidence * 100)} %`];
    if (!d.digit_like) parts.push(h('span', {class: 'not-digit'}, ' · ' + text('not_digit')));
    if (d.meant !== null) parts.push(h('span', {class: 'meant'}, ' · ' + text('meant', {digit: nameOf(d.meant)})));
    if (d.nickname) parts.push(h('span', {class: 'nick'}, ` · ${d.nickname}`));
    caption.replaceChildren(...parts);
  }
  function drawGallery() {
    const shown = new Set(drawings.map((d) => d.id));
    for (const [id, fig] of figures) if (!shown.has(id)) { fig.remove(); figures.delete(id); }
    const rank = (d) => (wrongFirst ? (wrong(d) ? 0 : unsure(d) ? 1 : 2) : 0);
    const ordered = [...drawings].sort((a, b) => rank(a) - rank(b) || b.id - a.id);  // newest first within a rank
    ordered.forEach((d, i) => {
      let fig = figures.get(d.id);
      if (!fig) { fig = figureFor(d); figures.set(d.id, fig); }
      update(fig, d);
      if (gallery.children[i] !== fig) gallery.insertBefore(fig, gallery.children[i] || null);
    });
    if (!drawings.length) gallery.replaceChildren(h('p', {class: 'placeholder'}, text('empty')));
    else gallery.querySelector('.placeholder')?.remove();
    // a list only while it holds drawings: an empty role=list, or one holding the placeholder, is not one
    if (drawings.length) gallery.setAttribute('role', 'list');
    else gallery.removeAttribute('role');
    const n = drawings.length;
    count.textContent = text(n === 1 ? 'drawings_one' : 'drawings_many', {count: n});
  }
  function drawTally() {  // what the pupils meant (rows) against what the network read (columns)
    const classes = 10 + symbols.length;  // the digits, then the class's symbols
    const counted = drawings.filter((d) => d.meant !== null && d.meant < classes && d.label < classes);
    const m = Array.from({length: classes}, () => Array(classes).fill(0));
    for (const d of counted) m[d.meant][d.label] += 1;
    const right = counted.filter((d) => d.meant === d.label).length;
    const table = h('table', {class: 'tally-table'});
    table.append(h('tr', {}, h('th', {title: text('tally_corner_title')}, text('tally_corner')),
                   ...[...Array(classes).keys()].map((j) => h('th', {}, nameOf(j)))));
    m.forEach((row, i) => table.append(h('tr', {}, h('th', {}, nameOf(i)), ...row.map((v, j) => {
      const cell = h('td', {class: v ? (i === j ? 'right' : 'wrong') : ''}, v ? String(v) : '');
      cell.dataset.meant = i; cell.dataset.read = j; cell.dataset.count = v;
      return cell;
    }))));
    tally.replaceChildren(
      h('div', {class: 'tally-title'}, text('tally_title')),
      h('div', {id: 'class-accuracy', class: 'class-accuracy', 'data-right': right, 'data-counted': counted.length},
        ...(counted.length
          ? [text('accuracy', {accuracy: `${Math.round(100 * right / counted.length)} %`}),
             h('span', {class: 'tally-note'}, ' ' + text('accuracy_note', {right: right, counted: counted.length}))]
          : [text('accuracy_none')])),
      table);
  }
  let polling = false;
  let again = false;  // a change was announced while the page was asking: ask once more after
  async function refresh() {
    if (polling) { again = true; return; }
    polling = true;
    let more = false;
    try {
      const r = await ask(`state?${new URLSearchParams(version === null ? {have} : {version, have})}`);
      if (r.status === 403 || r.status === 404) { deny((await r.json()).error); return; }
      if (r.status >= 502 && r.status <= 504) {  // asked again meanwhile
        const why = await refusal(r);
        if (message.dataset.kind !== 'action') say(why);
        return;
      }
      if (!r.ok) throw new Error(String(r.status));
      const state = await r.json();
      say('');
      if (state.unchanged) return;
      const had = have;
      for (const [id, d] of Object.entries(state.strokes)) { strokes.set(+id, d); have = Math.max(have, +id); }
      more = state.more === true && have > had;  // (an answer that brought nothing is not asked again at once)
      const listed = new Set(state.drawings.map((d) => d.id));
      for (const id of strokes.keys()) if (!listed.has(id)) strokes.delete(id);  // hidden or cleared: for good
      // A drawing at or below `have` without its strokes: the server started a new room file (its numbers begin
      // at 1 again), so the page asks for the strokes from there.
      const lost = state.drawings.filter((d) => d.id <= have && !strokes.has(d.id)).map((d) => d.id);
      if (lost.length) { have = Math.min(...lost) - 1; more = true; }
      drawings = state.drawings.filter((d) => strokes.has(d.id));
      symbols = state.symbols || [];
      review.checked = state.review_first;
      revealAll.hidden = !drawings.some((d) => !d.revealed);
      version = state.version;
      root.dataset.version = version;
      drawGallery();
      drawTally();
      // The symbols' panel (room_symbols.js) counts the drawings of each symbol and shows the ones it got wrong.
      document.dispatchEvent(new CustomEvent('convscope-room-state', {detail: {drawings, symbols}}));
    } catch (err) {
      if (message.dataset.kind !== 'action') say(text('lost_contact'));
    } finally {
      polling = false;
      // The next strokes, or a change announced while this answer was on its way. Here, in `finally`, so that
      // an answer that returned early ("unchanged", "not answering") does not drop the announced change.
      if ((more || again) && root.dataset.state === 'teacher') { again = false; refresh(); }
    }
  }
  let timer = null;
  function deny(text) {  // a wrong token: nothing of the room, and no more asking
    clearInterval(timer);
    root.dataset.state = 'denied';
    root.replaceChildren(h('p', {class: 'room-denied'}, text));
  }
  order.addEventListener('click', () => {
    wrongFirst = !wrongFirst;
    order.setAttribute('aria-pressed', String(wrongFirst));
    drawGallery();
  });
  review.addEventListener('change', async () => {  // a switch the server did not take goes back
    if (!await act({action: 'review_first', on: review.checked})) review.checked = !review.checked;
  });
  revealAll.addEventListener('click', () => act({action: 'reveal_all'}));
  clear.addEventListener('click', () => {
    if (confirm(text('confirm_clear'))) act({action: 'clear'});
  });
  close.addEventListener('click', async () => {
    if (!confirm(text('confirm_close'))) return;
    try {
      const r = await fetch(ROOM_ROUTE, {method: 'DELETE', headers: {'X-Teacher-Token': token}});
      if (!r.ok && r.status !== 404) {  // 404: closed already (by itself, or on another screen)
        say(await refusal(r, 'room_down_action'), 'action');
        return;
      }
      clearInterval(timer);
      sessionStorage.removeItem(TEACHER_KEY);
      root.dataset.state = 'closed';
      root.replaceChildren(h('p', {class: 'room-closed'}, text('closed')));
    } catch (err) { say(text('unreachable'), 'action'); }
  });
  root.dataset.state = 'teacher';
  async function showJoin() {  // asked again every few seconds until the room's server answers
    try {
      const r = await ask('join');
      if (r.status === 403 || r.status === 404) { deny((await r.json()).error); return; }
      if (!r.ok) {  // asked again in a moment
        const answer = await r.json().catch(() => ({}));
        throw new Refused(text(answer.room_server === 'down' ? 'room_down' : 'unreachable_retrying'));
      }
      const join = await r.json();
      // What pupils type, large (the scheme and the final / are implied); the QR code holds the whole link.
      joinUrl.textContent = join.join_url.replace(/^https?:\/\//, '').replace(/\/$/, '');
      joinUrl.dataset.url = join.join_url;
      qr.innerHTML = join.qr_svg;  // made by the server (segno) from the join link: no page input in it
    } catch (err) {
      say(err instanceof Refused ? err.message : text('unreachable_retrying'));
      if (root.dataset.state === 'teacher') setTimeout(showJoin, 5000);
    }
  }
  showJoin();
  // Pushed: the server says when the room changed (server-sent events: demo/server/room_events.py, read here with
  // fetch so that the token stays in a header), and the page asks what changed. While there is no stream (refused,
  // cut, or a proxy that holds it back) the page asks once a second, and tries the stream again.
  let pushed = false;
  async function listen() {
    let wait = 5000;
    try {
      const r = await fetch(`${ROUTE}/events`, {headers: {'X-Teacher-Token': token}});
      if (r.status === 403 || r.status === 404) { deny((await r.json()).error); return; }
      if (!r.ok || !r.body) throw new Error(String(r.status));
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: version$/m.test(message)) {
            pushed = true;
            root.dataset.pushed = 'true';  // (for tests and the curious: the page is told, not asking)
            refresh();
          }
        }
      }
      wait = 0;  // the stream ended by itself (the server's limit on its length): the next one at once
    } catch (err) { /* polled meanwhile */ }
    pushed = false;
    root.dataset.pushed = 'false';
    if (root.dataset.state === 'teacher') setTimeout(listen, wait);
  }
  refresh();
  listen();
  timer = setInterval(() => { if (!pushed) refresh(); }, props.poll_ms);
}
