// The teacher's "teach it new symbols" panel (demo/page/class_symbols.py, room_symbols.html), run by Gradio's gr.HTML
// as js_on_load; hidden on a pupil's page. The teacher names up to five symbols (POST <room>/classes); the pupils'
// send bars then offer them (send.js). "Learn them" starts the room's own network learning them (POST <room>/learn,
// demo/server/room_learning_routes.py) and the panel asks how it goes (GET <room>/learn) every props.poll_ms while it
// learns: the loss and accuracy curves step by step, then the accuracy on the drawings of pupils it never learned
// from, the MNIST test digits before and after (what it forgot), and the held-back drawings it got wrong. "Back to
// the shipped network" undoes it (DELETE <room>/learn). The class's drawings can be downloaded before the class is
// closed (closing deletes them from the server).
//
// room.js holds the room's drawings; it sends them here after each change ('convscope-room-state') and lends its
// thumbnails (window.convscopeRoom). Its words (texts.js) are the catalogue's [js.room_symbols] and the template's.
const token = TEACHER_TOKEN;
const panel = element.querySelector('#class-symbols');
const $ = (id) => element.querySelector(`#${id}`);
function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}
// Numbers as the page's language writes them (0,5 in German and Spanish).
const number = (x, digits) => x.toLocaleString(document.documentElement.lang || 'en',
                                               {minimumFractionDigits: digits, maximumFractionDigits: digits});
const percent = (x) => `${number(100 * x, 1)} %`;
// The classes' names by index: the ten digits, then the symbols.
const classNames = (symbolNames) => [...Array(10).keys()].map(String).concat(symbolNames);
let relabelPanel = () => {};  // the words this script wrote itself, again in the page's new language
function relabelMore() { relabelPanel(); }
if (token) {
  panel.hidden = false;
  const input = $('symbols-input');
  const list = $('symbols-list');
  const status = $('learn-status');
  const box = $('learn-box');
  const start = $('learn-start');
  const undo = $('learn-undo');
  let symbols = [];    // the class's symbols, as the server has them
  let drawings = [];   // the room's drawings the teacher's page shows (room.js)
  let learning = {state: 'idle'};  // the last answer of GET <room>/learn
  let timer = null;
  let typing = false;  // the teacher is editing the names: the server's list does not overwrite them
  function ask(path, method = 'GET', body = undefined) {
    const options = {method, headers: {'X-Teacher-Token': token}};
    if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers['Content-Type'] = 'application/json';
    }
    return fetch(`${ROOM_ROUTE}/${path}`, options);
  }
  async function why(r) {  // the server's reason, or the balancer's for a machine that is down
    const answer = await r.json().catch(() => ({}));
    return answer.room_server === 'down' ? text('room_down') : answer.error || text('refused', {status: r.status});
  }
  function say(line, kind = 'status') {
    status.textContent = line;
    status.dataset.kind = kind;
  }
  function drawList() {  // each symbol with the drawings the class has made of it so far
    const counted = (i, shown) => drawings.filter((d) => d.meant === 10 + i && d.revealed === shown).length;
    list.replaceChildren(...symbols.map((name, i) => {
      const shown = counted(i, true);
      const waiting = counted(i, false);
      const line = [text('symbol_count', {name, count: shown, needed: props.min_drawings})];
      if (waiting) line.push(' · ' + text('symbol_waiting', {count: waiting}));
      return h('li', {'data-symbol': name, 'data-count': shown, 'data-enough': String(shown >= props.min_drawings)},
               ...line);
    }));
    if (!typing) input.value = symbols.join(', ');
    start.disabled = !symbols.length || learning.state === 'running';
  }
  function curves(answer) {  // loss (left scale, from 0 to its largest) and accuracy (0-100 %) against the step
    const svg = $('learn-curves');
    const [width, height, left, bottom] = [400, 180, 8, 8];
    const points = answer.curve || [];
    const most = Math.max(...points.map((p) => p[1]), 0.01);
    const x = (step) => left + (width - 2 * left) * step / Math.max(answer.steps, 1);
    const y = (share) => height - bottom - (height - 2 * bottom) * share;
    const line = (cls, value) => {
      const path = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
      path.setAttribute('class', cls);
      path.setAttribute('points', points.map((p) => `${x(p[0]).toFixed(1)},${y(value(p)).toFixed(1)}`).join(' '));
      return path;
    };
    const axis = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    axis.setAttribute('class', 'curve-axis');
    axis.setAttribute('points', `${left},${bottom} ${left},${height - bottom} ${width - left},${height - bottom}`);
    const label = (textValue, atY) => {  // the right-hand scale: accuracy, 0 to 100 %
      const t = document.createElementNS('http://www.w3.org/2000/svg', 'text');
      Object.entries({class: 'curve-label', x: width - left - 2, y: atY, 'text-anchor': 'end'})
        .forEach(([k, v]) => t.setAttribute(k, v));
      t.textContent = textValue;
      return t;
    };
    svg.replaceChildren(axis, label('100 %', bottom + 12), label('0 %', height - bottom - 4),
                        line('curve-digits', (p) => p[4] ?? 0), line('curve-loss', (p) => p[1] / most),
                        line('curve-accuracy', (p) => p[2]));
    svg.dataset.points = String(points.length);
    const last = points[points.length - 1];
    $('learn-progress').textContent = last
      ? text('progress', {step: last[0], steps: answer.steps, loss: number(last[1], 3), accuracy: percent(last[2]),
                          digits: percent(last[4] ?? 0)})
      : text('progress_start', {steps: answer.steps});
  }
  function thumbnail(id, caption) {  // one of the room's drawings, as the gallery paints it (room.js)
    const canvas = h('canvas', {width: 64, height: 64, class: 'thumb', 'aria-hidden': 'true'});
    const room = window.convscopeRoom;
    const strokes = room && room.strokes(id);
    if (strokes) room.paint(canvas, strokes);
    return h('figure', {class: 'wrong-drawing', role: 'listitem', 'data-drawing': id}, canvas,
             h('figcaption', {}, caption));
  }
  function wrongOnes(answer) {  // while it learns: the drawings it learns from that it still reads wrong; then the
    const names = classNames(answer.names);  // held-back ones it got wrong
    const meantOf = (id) => names[drawings.find((d) => d.id === id)?.meant] ?? '?';
    const points = answer.curve || [];
    const last = points[points.length - 1];
    const figures = answer.state === 'done'
      ? answer.wrong.map((w) => thumbnail(w.id, text('wrong_caption', {meant: names[w.meant] ?? '?',
                                                                      read: names[w.read] ?? '?'})))
      : ((last && last[3]) || []).map((id) => thumbnail(id, text('still_wrong_caption', {meant: meantOf(id)})));
    const title = answer.state === 'done' ? (figures.length ? 'wrong_title' : 'wrong_none')
      : (figures.length ? 'still_wrong' : 'still_wrong_none');
    const box = $('learn-wrong');
    box.dataset.kind = answer.state === 'done' ? 'held-back' : 'learning';
    box.replaceChildren(h('div', {class: 'wrong-title'}, text(title, {count: figures.length})),
                        ...(figures.length ? [h('div', {class: 'wrong-list', role: 'list'}, ...figures)] : []));
  }
  function results(answer) {
    const held = $('held-back-accuracy');
    const mnist = $('mnist-accuracy');
    const done = answer.state === 'done';
    held.hidden = mnist.hidden = $('learned-from').hidden = !done;
    if (answer.state !== 'idle') wrongOnes(answer);
    if (!done) return;
    const n = answer.held_back || 0;
    const right = Math.round((answer.held_back_accuracy || 0) * n);
    held.dataset.accuracy = String(answer.held_back_accuracy);
    held.textContent = text('held_back', {accuracy: percent(answer.held_back_accuracy || 0), right, count: n});
    $('learned-from').textContent = text('learned_from', {learned: answer.learned_from});
    if (answer.mnist_accuracy_before === null) {
      mnist.textContent = text('mnist_unmeasured');
    } else {
      const drop = 100 * (answer.mnist_accuracy_before - answer.mnist_accuracy_after);
      mnist.dataset.before = String(answer.mnist_accuracy_before);
      mnist.dataset.after = String(answer.mnist_accuracy_after);
      mnist.textContent = text(drop > 0 ? 'mnist_forgot' : 'mnist_kept', {
        before: percent(answer.mnist_accuracy_before), after: percent(answer.mnist_accuracy_after),
        points: number(Math.abs(drop), 2)});
    }
  }
  function show(answer) {
    learning = answer;
    box.dataset.state = answer.state;
    box.hidden = answer.state === 'idle';
    undo.hidden = answer.state === 'idle';
    if (answer.state !== 'idle') curves(answer);
    results(answer);
    const lines = {running: text('running', {seconds: Math.round(answer.seconds || 0)}),
                   done: text('done', {seconds: number(answer.seconds || 0, 1), names: answer.names.join(', ')}),
                   failed: answer.error || text('refused', {status: 500}), idle: ''};
    say(lines[answer.state] ?? '', answer.state === 'failed' ? 'error' : 'status');
    drawList();
  }
  async function follow() {  // GET <room>/learn now, and again soon while it learns
    clearTimeout(timer);
    try {
      const r = await ask('learn');
      if (!r.ok) { say(await why(r), 'error'); return; }
      const answer = await r.json();
      show(answer);
      if (answer.state === 'running') timer = setTimeout(follow, props.poll_ms);
    } catch (err) {
      say(text('unreachable'), 'error');
      timer = setTimeout(follow, 5 * props.poll_ms);
    }
  }
  input.addEventListener('input', () => { typing = true; });
  $('symbols-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const names = input.value.split(',').map((n) => n.trim()).filter((n) => n !== '');
    try {
      const r = await ask('classes', 'POST', {names});
      if (!r.ok) { say(await why(r), 'error'); return; }
      typing = false;
      symbols = (await r.json()).names;
      say(symbols.length ? text('asked', {names: symbols.join(', ')}) : text('removed'));
      drawList();
    } catch (err) { say(text('unreachable'), 'error'); }
  });
  start.addEventListener('click', async () => {
    start.disabled = true;
    try {
      const r = await ask('learn', 'POST');
      if (!r.ok) { say(await why(r), 'error'); start.disabled = false; return; }
      show(await r.json());
      timer = setTimeout(follow, props.poll_ms);
    } catch (err) { say(text('unreachable'), 'error'); start.disabled = false; }
  });
  undo.addEventListener('click', async () => {
    try {
      const r = await ask('learn', 'DELETE');
      if (!r.ok) { say(await why(r), 'error'); return; }
      show(await r.json());
      say(text('undone'));
    } catch (err) { say(text('unreachable'), 'error'); }
  });
  $('download-drawings').addEventListener('click', () => {  // the lesson's drawings, kept on the teacher's computer
    const room = window.convscopeRoom;
    const names = classNames(symbols);
    const kept = drawings.map((d) => ({id: d.id, meant: d.meant === null ? null : names[d.meant] ?? null,
                                       read: names[d.label] ?? null, drawing: room ? room.strokes(d.id) : null}));
    const file = new Blob([JSON.stringify({classes: names, drawings: kept}, null, 1)], {type: 'application/json'});
    const link = h('a', {href: URL.createObjectURL(file), download: `convscope-class-${ROOM_CODE || 'room'}.json`});
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    say(text('downloaded', {count: kept.length}));
  });
  document.addEventListener('convscope-room-state', (e) => {
    drawings = e.detail.drawings;
    const changed = e.detail.symbols.join('\n') !== symbols.join('\n');
    symbols = e.detail.symbols;
    drawList();
    if (changed || learning.state !== 'idle') results(learning);  // the wrong ones' thumbnails, once their strokes are here
  });
  relabelPanel = () => { if (learning.state === 'idle') drawList(); else show(learning); };
  follow();
}
