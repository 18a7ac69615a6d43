// Highlights actual values outside the planned range as they are typed.
// Same rule as samples.models.RunValue.compute_deviation (the server recomputes on save):
// range [min, max] when given, else nominal ± tolerance; the actual is first converted
// to the planned unit with the factor carried by the selected <option data-factor>.
(function () {
  "use strict";
  var form = document.getElementById("run-form");
  if (!form) return;
  var tolerance = parseFloat(form.dataset.tolerance || "0.05");

  function num(s) { return s === "" || s === undefined ? null : parseFloat(String(s).replace(",", ".")); }

  // A batch volume other than the one the planned column is for scales the amounts
  // (samples.services.batch_scale: batch / recipe volume; rows marked data-scales).
  var baseVolume = num(form.dataset.baseVolume);
  var batchInput = document.getElementById("id_batch_volume_ml");
  function batchFactor() {
    if (!baseVolume || !batchInput) return 1;
    var batch = num(batchInput.value);
    return batch && batch > 0 ? batch / baseVolume : 1;
  }
  function fmt(v) {  // recipes.formatting.format_number
    if (v === Math.round(v) && Math.abs(v) < 1e6) return String(v);
    var digits = Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? 3 : 4;
    return String(parseFloat(v.toPrecision(digits)));
  }
  function showPlanned(row, lo, hi, nominal) {
    var cell = row.querySelector(".planned-cell");
    if (!cell) return;
    var unit = cell.dataset.unit ? " " + cell.dataset.unit : "";
    if (lo !== null && hi !== null) cell.textContent = (nominal !== null && nominal !== lo && nominal !== hi && Math.abs(nominal - (lo + hi) / 2) > 1e-12 ? fmt(nominal) + unit + " (" + fmt(lo) + "–" + fmt(hi) + unit + ")" : fmt(lo) + "–" + fmt(hi) + unit);
    else if (lo !== null) cell.textContent = "≥ " + fmt(lo) + unit;
    else if (hi !== null) cell.textContent = "≤ " + fmt(hi) + unit;
    else if (nominal !== null) cell.textContent = fmt(nominal) + unit;
  }

  function check(row) {
    var input = row.querySelector(".actual-input");
    if (!input) return false;
    var cell = row.querySelector(".check-cell");
    var scale = row.dataset.scales ? batchFactor() : 1;
    function scaled(v) { return v === null ? null : v * scale; }
    if (row.dataset.scales) showPlanned(row, scaled(num(input.dataset.min)), scaled(num(input.dataset.max)), scaled(num(input.dataset.nominal)));
    var value = num(input.value);
    row.classList.remove("deviation");
    input.classList.remove("deviation");
    cell.textContent = "";
    if (value === null || isNaN(value)) return false;
    var select = row.querySelector(".unit-select");
    var factor = 1;
    if (select && select.selectedOptions.length) factor = parseFloat(select.selectedOptions[0].dataset.factor || "1");
    var actual = value * factor;
    var lo = scaled(num(input.dataset.min)), hi = scaled(num(input.dataset.max)), nominal = scaled(num(input.dataset.nominal));
    if (lo === null && hi === null) {
      if (nominal === null) return false;
      var slack = Math.abs(nominal) * tolerance;
      lo = nominal - slack; hi = nominal + slack;
    }
    var eps = 1e-9 * Math.max(1, Math.abs(actual));
    var out = (lo !== null && actual < lo - eps) || (hi !== null && actual > hi + eps);
    if (out) {
      row.classList.add("deviation");
      input.classList.add("deviation");
      cell.innerHTML = '<span class="deviation-note">⚠ outside planned range</span>';
    } else {
      cell.innerHTML = '<span class="ok-note">✓ within range</span>';
    }
    return out;
  }

  function summarise() {
    var n = 0;
    form.querySelectorAll("tr.param-row").forEach(function (row) { if (check(row)) n += 1; });
    var summary = document.getElementById("deviation-summary");
    if (summary) summary.textContent = n ? n + " value(s) outside the planned range" : "";
  }

  form.addEventListener("input", function (e) {
    if (e.target === batchInput) { summarise(); return; }
    var row = e.target.closest("tr.param-row");
    if (row) { check(row); summariseCount(); }
  });
  form.addEventListener("change", function (e) {
    var row = e.target.closest("tr.param-row");
    if (row) { check(row); summariseCount(); }
  });
  function summariseCount() {
    var n = form.querySelectorAll("tr.param-row.deviation").length;
    var summary = document.getElementById("deviation-summary");
    if (summary) summary.textContent = n ? n + " value(s) outside the planned range" : "";
  }
  summarise();
})();
