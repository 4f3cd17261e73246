// The page's language for browsers and screen readers: <html lang> follows the header's data-lang, which the
// server writes in the visitor's language when the page loads (demo/page/layout.py: header_html), so a screen
// reader speaks German text with a German voice.
function follow() {
  const header = element.querySelector('.header[data-lang]');
  if (header) document.documentElement.lang = header.dataset.lang;
}
follow();
new MutationObserver(follow).observe(element, {childList: true, subtree: true, attributes: true});
