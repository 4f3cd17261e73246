// The baseline of bench/pad_latency.py, run with page.evaluate: clicks Clear and resolves with the milliseconds
// until #prediction answers it (the same Gradio event path as a drawing, with no model work).
() => new Promise((resolve) => {
  const c = document.querySelector('#pad canvas');
  const start = performance.now();
  document.querySelector('#clear').click();
  const target = +c.dataset.seq;
  const check = () => {
    const p = document.querySelector('#prediction');
    if (p && +p.dataset.seq === target) resolve(performance.now() - start); else requestAnimationFrame(check);
  };
  check();
})
