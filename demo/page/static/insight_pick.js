// A click inside a teaching view asks the server to move that tab's controls (demo/page/insight_tabs.py): a channel of
// the filter atlas (.atlas-channel / .atlas-layer in #filter-atlas) or a snapshot of Watch it learn
// ([data-snapshot] in #learning). Run by Gradio's gr.HTML as js_on_load, once per view, with PICK_KIND set to
// 'atlas' or 'learning' in front of this text. Setting props.value fires the component's change event; a nonce makes
// a second click on the same thing a change too. One document listener serves both views, so mounting a view again
// never doubles the requests: it only replaces the function that sets that view's value.
window.convscopePick = window.convscopePick || {};
let nonce = 0;
window.convscopePick[PICK_KIND] = (request) => {
  nonce += 1;
  props.value = JSON.stringify({...request, n: nonce});
};
if (!window.convscopePickListening) {
  window.convscopePickListening = true;
  document.addEventListener('click', (e) => {
    const target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    const channel = target.closest('#filter-atlas .atlas-channel, #filter-atlas .atlas-layer');
    if (channel && window.convscopePick.atlas) {
      window.convscopePick.atlas({layer: channel.dataset.layer, channel: +(channel.dataset.channel || 0)});
      return;
    }
    const snapshot = target.closest('#learning [data-snapshot]');
    if (snapshot && window.convscopePick.learning) {
      window.convscopePick.learning({index: +snapshot.dataset.snapshot});
    }
  });
}
