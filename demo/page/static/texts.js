// Shared by the page's scripts (demo/page/assets.py puts it in front of each script that has words): the words of
// the script and of its template, in the page's language. props.words holds every language's ({code: {key: text}},
// demo/page/pad.py: script_words); the page's language is <html lang>, which page_language.js sets once the server
// has said which one the visitor gets. Elements of the template marked data-text, data-title, data-aria-label or
// data-placeholder (a key of props.words) get their words again when it changes; a script's own words for things
// it made can follow by defining relabelMore().
const WORDS = props.words;
function words() {
  return WORDS[document.documentElement.lang] || WORDS.en;
}
function text(key, values = {}) {  // the text `key`, {name} filled from values ({{ and }} are braces)
  return words()[key].replace(/\{\{|\}\}|\{(\w+)\}/g, (m, name) => (name === undefined ? m[0] : String(values[name])));
}
function relabel() {
  const w = words();
  element.querySelectorAll('[data-text]').forEach((e) => { e.textContent = w[e.dataset.text]; });
  element.querySelectorAll('[data-title]').forEach((e) => { e.title = w[e.dataset.title]; });
  element.querySelectorAll('[data-aria-label]').forEach((e) => e.setAttribute('aria-label', w[e.dataset.ariaLabel]));
  element.querySelectorAll('[data-placeholder]').forEach((e) => { e.placeholder = w[e.dataset.placeholder]; });
  if (typeof relabelMore === 'function') relabelMore();
}
new MutationObserver(relabel).observe(document.documentElement, {attributes: true, attributeFilter: ['lang']});
