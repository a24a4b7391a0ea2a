/* Kohtaamo feedback widget. Embed with
   <script src="https://HOST/widget.js" data-survey="KEY" data-touchpoint="ID" async></script>
   Optional: data-channel, data-lang, data-customer-ref, data-case-ref, data-target (CSS
   selector of the element to render into). Answers are saved as they are given
   (partial) and once more when sent (complete), all under one response id. */
(function () {
  'use strict';
  var me = document.currentScript;
  if (!me || !me.dataset.survey) return;
  var d = me.dataset, base = new URL(me.src).origin, key = d.survey;
  var api = base + '/api/public/v1/surveys/' + encodeURIComponent(key);
  var rid = (self.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)).replace(/[^A-Za-z0-9-]/g, '');
  var lang = d.lang || document.documentElement.lang || navigator.language || '';
  var answers = {}, sv, form, saving = Promise.resolve();

  function el(tag, props, kids) {
    var e = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) { if (k === 'style') Object.assign(e.style, props[k]); else if (k in e) e[k] = props[k]; else e.setAttribute(k, props[k]); });
    (kids || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function hidden() {
    var h = {};
    if (d.touchpoint) h.touchpoint_id = Number(d.touchpoint);
    h.channel = d.channel || 'web';
    h.locale = sv ? sv.lang : undefined;
    if (d.customerRef) h.customer_ref = d.customerRef;
    if (d.caseRef) h.case_ref = d.caseRef;
    return h;
  }
  function post(complete) {
    var body = JSON.stringify({ id: rid, answers: visibleAnswers(), complete: complete, hidden: hidden() });
    // text/plain keeps this a simple request (no preflight); the server reads JSON.
    saving = saving.then(function () {
      return fetch(api + '/responses', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: body, keepalive: true });
    });
    return saving;
  }
  function shown(q) {
    if (!q.show_if) return true;
    var v = answers[q.show_if.question];
    return typeof v === 'number' && v >= q.show_if.min && v <= q.show_if.max;
  }
  function visibleAnswers() {
    var out = {};
    sv.questions.forEach(function (q) { if (shown(q) && answers[q.key] !== undefined) out[q.key] = answers[q.key]; });
    return out;
  }
  function refresh() {
    sv.questions.forEach(function (q) { form.querySelector('[data-q="' + q.key + '"]').style.display = shown(q) ? '' : 'none'; });
  }
  function question(q) {
    var id = 'kw-' + rid.slice(0, 8) + '-' + q.key, kids = [], box = { style: { display: 'flex', flexWrap: 'wrap', gap: '4px' } };
    var legend = el('legend', { style: { fontWeight: '600', marginBottom: '6px', padding: '0' } }, [q.text + (q.required ? ' ' + sv.labels.required : '')]);
    if (q.min !== null && q.max !== null) {
      var row = el('div', box);
      for (var n = q.min; n <= q.max; n++) {
        (function (n) {
          var input = el('input', { type: 'radio', name: id, value: String(n), id: id + '-' + n });
          input.addEventListener('change', function () { answers[q.key] = n; refresh(); post(false); });
          row.appendChild(el('label', { htmlFor: id + '-' + n, style: { flex: '1 0 28px', textAlign: 'center', border: '1px solid #777', borderRadius: '4px', padding: '4px 0', cursor: 'pointer' } }, [input, ' ' + n]));
        })(n);
      }
      kids.push(row);
      if (q.low) kids.push(el('div', { style: { display: 'flex', justifyContent: 'space-between', fontSize: '12px' } }, [el('span', {}, [q.min + ' = ' + q.low]), el('span', {}, [q.max + ' = ' + q.high])]));
    } else if (q.kind === 'contact') {
      var inp = el('input', { id: id, type: 'text', inputMode: 'email', autocomplete: 'email', maxLength: 254, style: { width: '100%', font: 'inherit' } });
      inp.addEventListener('change', function () { answers[q.key] = inp.value; post(false); });
      legend = el('label', { htmlFor: id, style: { display: 'block', fontWeight: '600', marginBottom: '6px' } }, [q.text]);
      return el('div', { 'data-q': q.key, style: { margin: '12px 0' } }, [legend, el('p', { style: { fontSize: '13px', margin: '0 0 4px' } }, [sv.labels.contact_help]), inp]);
    } else if (q.kind === 'text') {
      var ta = el('textarea', { id: id, rows: 3, maxLength: 4000, style: { width: '100%', font: 'inherit' } });
      ta.addEventListener('change', function () { answers[q.key] = ta.value; post(false); });
      legend = el('label', { htmlFor: id, style: { display: 'block', fontWeight: '600', marginBottom: '6px' } }, [q.text]);
      return el('div', { 'data-q': q.key, style: { margin: '12px 0' } }, [legend, ta]);
    } else {
      q.options.forEach(function (o) {
        var multi = q.kind === 'multi';
        var input = el('input', { type: multi ? 'checkbox' : 'radio', name: id, value: o.key });
        input.addEventListener('change', function () {
          if (multi) {
            var cur = answers[q.key] || [];
            answers[q.key] = input.checked ? cur.concat([o.key]) : cur.filter(function (k) { return k !== o.key; });
          } else answers[q.key] = o.key;
          post(false);
        });
        kids.push(el('label', { style: { display: 'block' } }, [input, ' ' + o.label]));
      });
    }
    return el('fieldset', { 'data-q': q.key, style: { border: '0', margin: '12px 0', padding: '0' } }, [legend].concat(kids));
  }
  function render(root) {
    var status = el('p', { role: 'status', style: { margin: '8px 0 0' } });
    form = el('form', { noValidate: true }, [el('strong', { style: { display: 'block', fontSize: '17px' } }, [sv.title]), sv.intro ? el('p', {}, [sv.intro]) : null]
      .concat(sv.questions.map(question))
      .concat([el('button', { type: 'submit', style: { font: 'inherit', padding: '8px 16px', background: '#0b57d0', color: '#fff', border: '0', borderRadius: '4px', cursor: 'pointer' } }, [sv.labels.submit]), status]));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      post(true).then(function (r) {
        if (r.ok) { root.textContent = ''; root.appendChild(el('div', { role: 'status' }, [el('strong', {}, [sv.labels.thanks_title]), el('p', {}, [sv.thanks])])); }
        else return r.json().then(function (j) { status.textContent = sv.labels.error + ' ' + Object.keys(j.fields || {}).map(function (f) { return j.fields[f]; }).join(' '); });
      }).catch(function () { status.textContent = sv.labels.error; });
    });
    root.appendChild(form);
    refresh();
    fetch(api + '/impressions' + (d.touchpoint ? '?touchpoint_id=' + encodeURIComponent(d.touchpoint) : ''), { method: 'POST' });
  }
  fetch(api + '?lang=' + encodeURIComponent(lang)).then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
    if (!j) return;
    sv = j;
    var root = d.target ? document.querySelector(d.target) : null;
    if (!root) { root = el('div', { className: 'kohtaamo-widget', lang: sv.lang, style: { font: '15px/1.4 system-ui, sans-serif', maxWidth: '32rem', border: '1px solid #ccc', borderRadius: '6px', padding: '12px', background: '#fff', color: '#1b1b1b' } }); me.parentNode.insertBefore(root, me.nextSibling); }
    render(root);
  });
})();
