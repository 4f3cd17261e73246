// The page's language for browsers and screen readers: <html lang> follows the header's data-lang, which the
// server writes in the visitor's language when the page loads (demo/page/layout.py: header_html), so a screen
// reader speaks German text with a German voice. The browser tab's title follows it too.
function follow() {
  const header = element.querySelector('.header[data-lang]');
  if (!header) return;
  if (document.documentElement.lang !== header.dataset.lang) document.documentElement.lang = header.dataset.lang;
  if (header.dataset.title && document.title !== header.dataset.title) document.title = header.dataset.title;
}
follow();
new MutationObserver(follow).observe(element, {childList: true, subtree: true, attributes: true});
// Gradio sets <html lang> to its own locale (the browser's language) when its translations load, which may be after
// this script ran: the page's language is put back.
new MutationObserver(follow).observe(document.documentElement, {attributes: true, attributeFilter: ['lang']});

// Gradio's upload box names itself in English ("Click to upload or drop files") and writes its words in the
// browser's language; it shows and says its own label instead, which is the page's (demo/page/layout.py).
function nameUpload() {
  const box = document.getElementById('upload');
  const text = box?.querySelector('label[data-testid="block-label"]')?.textContent.trim();
  const button = box?.querySelector('button.upload-container');
  if (!text || !button) return;
  if (button.getAttribute('aria-label') !== text) button.setAttribute('aria-label', text);
  const words = button.querySelector('[data-testid="upload-text"]');
  if (words && words.dataset.label !== text) words.dataset.label = text;
}
function watchUpload() {
  const box = document.getElementById('upload');
  if (!box) { setTimeout(watchUpload, 200); return; }
  nameUpload();
  new MutationObserver(nameUpload).observe(box, {childList: true, subtree: true, characterData: true});
}
watchUpload();
