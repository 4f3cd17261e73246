// Installed into every page the browser tests and benchmarks open (tests/harness.py: open_page): timestamps of
// every pen-up and of every #prediction update, for latency measurements (wait_settled reads them).
window.__updates = [];
window.__penUps = [];
window.addEventListener('pointerup', () => {
  const c = document.querySelector('#pad canvas');
  window.__penUps.push({t: performance.now(), seqAtUp: +(c && c.dataset.seq || 0)});
}, true);
new MutationObserver(() => {
  const p = document.querySelector('#prediction');
  if (!p) return;
  const seq = +(p.dataset.seq || 0);
  const last = window.__updates[window.__updates.length - 1];
  if (!last || last.seq !== seq || last.state !== p.dataset.state)
    window.__updates.push({t: performance.now(), seq: seq, state: p.dataset.state, text: p.innerText});
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
