// The inspector's request (demo/page/ui.py), run by Gradio's gr.HTML as js_on_load: a click on any value of the network
// overview (demo/views/overview.py) or of the feature maps (demo/views/panels.py) asks the server how that value was made, by
// setting props.value to {stage, unit, row, col}; Gradio's change event answers with the #inspector panel
// (demo/views/tabs/inspector.py). The panel follows the drawing: when the learner draws something else while it
// is open, the same place is asked for again. Esc or the × closes it.
let nonce = 0;
let asked = null;      // the last request, for asking again after a new drawing
let askedFor = '';     // the overview's picture sheet at that time: it changes with every new drawing

function sheet() {
  const overview = document.getElementById('overview');
  return overview ? overview.getAttribute('style') || '' : '';
}
function ask(request) {
  asked = request;
  askedFor = sheet();
  nonce += 1;
  props.value = JSON.stringify({...request, n: nonce});
}
// Where in a picture a click landed, in the picture's own cells (pictures are drawn enlarged, any size).
function place(el, e) {
  const r = el.getBoundingClientRect();
  const d = el.dataset;
  if (d.layout === 'vector') {
    const perRow = +d.rowLen;
    const rows = Math.ceil(+d.n / perRow);
    const x = Math.floor((e.clientX - r.left) / r.width * perRow);
    const y = Math.floor((e.clientY - r.top) / r.height * (2 * rows - 1) / 2);  // a gap line under each row
    const unit = Math.min(rows - 1, Math.max(0, y)) * perRow + Math.min(perRow - 1, Math.max(0, x));
    return unit < +d.n ? {unit: unit, row: 0, col: 0} : null;
  }
  const h = +d.h, w = +d.w, gap = +(d.gap || 0), cols = +(d.cols || 1);
  const units = d.units ? d.units.split(',').map(Number) : null;
  const count = units ? units.length : +d.count;
  const rows = Math.ceil(count / cols);
  const px = (e.clientX - r.left) / r.width * (cols * (w + gap) - gap);
  const py = (e.clientY - r.top) / r.height * (rows * (h + gap) - gap);
  const tx = Math.min(cols - 1, Math.floor(px / (w + gap)));
  const ty = Math.min(rows - 1, Math.floor(py / (h + gap)));
  const tile = ty * cols + tx;
  if (tile < 0 || tile >= count) return null;
  const col = Math.min(w - 1, Math.max(0, Math.floor(px - tx * (w + gap))));
  const row = Math.min(h - 1, Math.max(0, Math.floor(py - ty * (h + gap))));
  return {unit: units ? units[tile] : tile, row: row, col: col};
}
function close() {
  const panel = document.getElementById('inspector');
  if (panel) { panel.hidden = true; panel.dataset.state = 'closed'; }
  asked = null;
}
document.addEventListener('click', (e) => {
  if (e.target.closest('.inspector-close')) { close(); return; }
  const bar = e.target.closest('[data-inspect-unit]');
  if (bar) { ask({stage: bar.dataset.inspectStage, unit: +bar.dataset.inspectUnit, row: 0, col: 0}); return; }
  const picture = e.target.closest('[data-inspect]');
  if (!picture) return;
  const where = place(picture, e);
  if (where) ask({stage: picture.dataset.inspect, ...where});
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') close();
});
// Asked again for a new drawing (the pad's, an upload's or a sample's) while the panel is open.
setInterval(() => {
  const panel = document.getElementById('inspector');
  if (asked && panel && !panel.hidden && sheet() !== askedFor) ask(asked);
}, 400);
