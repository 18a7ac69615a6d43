// Highlights actual values outside the planned range as they are typed.
// Same rule as samples.models.RunValue.compute_deviation (the server recomputes on save):
// range [min, max] when given, else nominal ± tolerance; the actual is first converted
// to the planned unit with the factor carried by the selected <option data-factor>.
(function () {
  "use strict";
  var form = document.getElementById("run-form");
  if (!form) return;
  var tolerance = parseFloat(form.dataset.tolerance || "0.05");

  function num(s) { return s === "" || s === undefined ? null : parseFloat(s); }

  function check(row) {
    var input = row.querySelector(".actual-input");
    if (!input) return false;
    var cell = row.querySelector(".check-cell");
    var value = num(input.value);
    row.classList.remove("deviation");
    input.classList.remove("deviation");
    cell.textContent = "";
    if (value === null || isNaN(value)) return false;
    var select = row.querySelector(".unit-select");
    var factor = 1;
    if (select && select.selectedOptions.length) factor = parseFloat(select.selectedOptions[0].dataset.factor || "1");
    var actual = value * factor;
    var lo = num(input.dataset.min), hi = num(input.dataset.max), nominal = num(input.dataset.nominal);
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
