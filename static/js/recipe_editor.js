// Recipe editor (templates/recipes/recipe_form.html), progressive enhancement only: without this
// script "Add step" / "Add parameter" are submit buttons the server answers with one more row, and
// the server alone checks units. With it, rows are added in place (the formset's TOTAL_FORMS
// counters kept right, so the server reads every row) and a unit that is not of the chosen
// quantity is pointed out as it is picked; the server still refuses it.
(function () {
  "use strict";
  var form = document.getElementById("recipe-form");
  if (!form) return;
  var dims = JSON.parse((document.getElementById("units-by-dimension") || {}).textContent || "{}");
  var steps = document.getElementById("steps");
  var stepTotal = form.querySelector('input[name="step-TOTAL_FORMS"]');

  function fromTemplate(id, replace) {
    var html = document.getElementById(id).innerHTML;
    Object.keys(replace).forEach(function (token) { html = html.split(token).join(replace[token]); });
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }

  function addParam(stepIndex) {
    var fieldset = steps.querySelector('[data-step-index="' + stepIndex + '"]');
    var total = fieldset.querySelector('input[name="s' + stepIndex + 'p-TOTAL_FORMS"]');
    var n = parseInt(total.value, 10);
    var row = fromTemplate("param-template", { "__step__": String(stepIndex), "__prefix__": String(n) });
    fieldset.querySelector(".param-list").appendChild(row);
    total.value = String(n + 1);
    wire(row);
    row.querySelector("input").focus();
  }

  function addStep() {
    var n = parseInt(stepTotal.value, 10);
    var step = fromTemplate("step-template", { "__prefix__": String(n), "__step__": String(n), "__number__": String(n + 1) });
    steps.appendChild(step);
    stepTotal.value = String(n + 1);
    step.querySelectorAll("[data-param-row]").forEach(wire);
    step.querySelector("input").focus();
  }

  function checkUnit(row) {
    var dim = row.querySelector('select[name$="-dimension"]');
    var unit = row.querySelector('select[name$="-unit"]');
    var hint = row.querySelector(".unit-hint");
    if (!dim || !unit || !hint) return;
    var info = dims[dim.value];
    var bad = info && info.units.indexOf(unit.value) < 0 && unit.value !== "";
    // The server's refusal is already beside the field: say it once.
    var refused = unit.parentNode.querySelector(".errorlist") && !unit.dataset.changed;
    hint.hidden = !bad || !!refused;
    hint.textContent = bad ? unit.value + " is not a unit of " + info.label + ": use " + info.units.join(", ") : "";
    unit.classList.toggle("deviation", !!bad);
  }

  function wire(row) {
    var dim = row.querySelector('select[name$="-dimension"]');
    var unit = row.querySelector('select[name$="-unit"]');
    if (dim && unit) {
      dim.addEventListener("change", function () {
        unit.dataset.changed = "1";
        var info = dims[dim.value];
        // A unit not picked yet becomes the quantity's first; one picked is left for the person to fix.
        if (info && unit.value === "" && info.units.length) unit.value = info.units[0];
        checkUnit(row);
      });
      unit.addEventListener("change", function () { unit.dataset.changed = "1"; checkUnit(row); });
    }
    var remove = row.querySelector('input[name$="-DELETE"]');
    if (remove) remove.addEventListener("change", function () { row.classList.toggle("removed", remove.checked); });
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.hasAttribute("data-add-param")) {
      event.preventDefault();
      addParam(button.closest("[data-step-index]").getAttribute("data-step-index"));
    } else if (button.hasAttribute("data-add-step")) {
      event.preventDefault();
      addStep();
    }
  });
  form.querySelectorAll("[data-param-row]").forEach(function (row) { wire(row); checkUnit(row); });
  form.querySelectorAll('.step-editor input[name$="-DELETE"]').forEach(function (box) {
    box.addEventListener("change", function () { box.closest(".step-editor").classList.toggle("removed", box.checked); });
  });
})();
