// Conditional follow-up questions: without this script they are all shown with
// their condition written out; with it, each appears only when its condition holds.
(function () {
  var form = document.querySelector('.survey form');
  if (!form) return;
  var qs = form.querySelectorAll('[data-show-question]');
  function update() {
    qs.forEach(function (q) {
      var checked = form.querySelector('input[name="' + q.dataset.showQuestion + '"]:checked');
      var v = checked ? Number(checked.value) : NaN;
      var show = v >= Number(q.dataset.showMin) && v <= Number(q.dataset.showMax);
      q.classList.toggle('hidden', !show);
      var cond = q.querySelector('.cond');
      if (cond) cond.hidden = true;
    });
  }
  form.addEventListener('change', update);
  update();
})();
