// Kohtaamo progressive enhancement (the pages work without it). Forms marked
// data-inplace are sent in the background and the page's <main> is replaced by the
// updated one, so "mark reviewed" and reordering happen in place without a reload.
document.addEventListener('submit', async (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-inplace')) return;
  ev.preventDefault();
  const body = new URLSearchParams(new FormData(form));
  if (ev.submitter && ev.submitter.name) body.append(ev.submitter.name, ev.submitter.value);
  try {
    const resp = await fetch(form.action, { method: 'POST', body, credentials: 'same-origin' });
    const doc = new DOMParser().parseFromString(await resp.text(), 'text/html');
    const main = doc.querySelector('main');
    if (!resp.ok || !main) { form.submit(); return; }
    const y = window.scrollY;
    document.querySelector('main').replaceWith(main);
    if (resp.redirected) history.replaceState(null, '', resp.url);
    window.scrollTo(0, y);
    const focus = main.querySelector('[role=status], [role=alert]') || main.querySelector('h1');
    if (focus) { focus.setAttribute('tabindex', '-1'); focus.focus({ preventScroll: true }); }
  } catch (e) {
    form.submit();
  }
});

// The survey builder's "add a question" form shows only the fields of the chosen type
// (options for choices, the scale for a rating); without JavaScript all are shown.
function showFieldsOfKind() {
  const kind = document.getElementById('q-kind');
  if (!kind) return;
  for (const f of document.querySelectorAll('[data-kinds]')) {
    f.hidden = !f.dataset.kinds.split(' ').includes(kind.value);
  }
}
document.addEventListener('change', (ev) => { if (ev.target && ev.target.id === 'q-kind') showFieldsOfKind(); });
document.addEventListener('DOMContentLoaded', showFieldsOfKind);

// The case-step editor's preview follows the form as it is typed (without JavaScript
// the Preview button shows it with a reload).
let previewTimer;
function refreshPreview(form) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(async () => {
    const body = new URLSearchParams(new FormData(form));
    body.set('do', 'preview');
    body.set('partial', '1');
    try {
      const resp = await fetch(form.action, { method: 'POST', body, credentials: 'same-origin' });
      if (!resp.ok) return;
      const doc = new DOMParser().parseFromString(await resp.text(), 'text/html');
      const fresh = doc.getElementById('step-preview');
      const old = document.getElementById('step-preview');
      if (fresh && old) old.replaceWith(fresh);
    } catch (e) { /* the Preview button still works */ }
  }, 250);
}
for (const type of ['input', 'change']) {
  document.addEventListener(type, (ev) => {
    const form = ev.target && ev.target.form;
    if (form && form.hasAttribute('data-preview')) refreshPreview(form);
  });
}

// A report still being computed (202): asked for again every few seconds, and shown
// once it is ready (without JavaScript: the "reload now" link).
document.addEventListener('DOMContentLoaded', () => {
  const el = document.querySelector('[data-retry-after]');
  if (!el) return;
  const every = Math.max(2, Number(el.dataset.retryAfter) || 10) * 1000;
  const ask = async () => {
    try {
      const r = await fetch(location.href, { credentials: 'same-origin' });
      if (r.status !== 202) { location.reload(); return; }
    } catch (e) { /* the server is out of reach for a moment: ask again */ }
    setTimeout(ask, every);
  };
  setTimeout(ask, every);
});
