// The settled answer, said once by a screen reader: this component's element is a polite live region
// (demo/page/layout.py). The answer box (#prediction) changes many times while a pen moves; only when it has stayed
// the same for SETTLE_MS, and it answers a drawing not yet announced (data-seq) or says something new, is its
// sentence (data-announce, in the page's language) put in the region. An answer box that says nothing (an empty
// pad) says nothing here either.
const SETTLE_MS = 700;
const region = element.querySelector('#answer-announcement');
let timer = null;
let said = '';

function announce() {
  const answer = document.querySelector('#prediction');
  const sentence = answer && answer.dataset.state === 'ready' ? (answer.dataset.announce || '') : '';
  const key = (answer ? answer.dataset.seq : '') + '|' + sentence;  // a new drawing with the same answer: said again
  if (key === said) return;
  said = key;
  if (region.textContent === sentence && sentence) {
    region.textContent = '';  // a live region speaks when its text changes: empty it first, then say it again
    setTimeout(() => { region.textContent = sentence; }, 50);
  } else {
    region.textContent = sentence;
  }
}

function watch(box) {
  new MutationObserver(() => {
    clearTimeout(timer);
    timer = setTimeout(announce, SETTLE_MS);
  }).observe(box, {childList: true, subtree: true, attributes: true});
}

(function find(tries) {  // the answer box is mounted beside this component; wait for it a little if need be
  const box = document.querySelector('#live-prediction');
  if (box) watch(box);
  else if (tries > 0) setTimeout(() => find(tries - 1), 200);
})(50);
