// The run form's input-sample picker: a search by label or name (loose labels: QD-2 finds
// QD-0002) and a kind filter, answered by the server (samples.views.run_input_search), so it
// works for thousands of samples. Ticked samples stay listed whatever the search; the results
// replace the unticked rows. Without this script the list and the label field still submit.
(function () {
  "use strict";
  var picker = document.getElementById("input-picker");
  if (!picker || !window.fetch) return;
  var list = document.getElementById("input-list");
  var search = document.getElementById("input-search");
  var kind = document.getElementById("input-kind");
  var status = document.getElementById("input-picker-status");
  var url = picker.dataset.searchUrl;
  picker.querySelector(".picker-controls").hidden = false;
  var name = (list.querySelector("input[type=checkbox]") || {}).name || "inputs";
  var pending = null, timer = null;

  function row(item) {
    var li = document.createElement("li");
    var box = document.createElement("input");
    box.type = "checkbox"; box.name = name; box.value = String(item.id); box.id = "id_inputs_" + item.id;
    var label = document.createElement("label");
    label.htmlFor = box.id; label.textContent = item.text;
    li.appendChild(box); li.appendChild(document.createTextNode(" ")); li.appendChild(label);
    return li;
  }

  function show(data) {
    var ticked = {};
    list.querySelectorAll("li").forEach(function (li) {
      var box = li.querySelector("input[type=checkbox]");
      if (box && box.checked) ticked[box.value] = true; else li.remove();
    });
    var added = 0;
    data.results.forEach(function (item) {
      if (ticked[String(item.id)]) return;
      list.appendChild(row(item)); added += 1;
    });
    var n = Object.keys(ticked).length;
    var text = data.results.length ? data.results.length + (data.more ? "+" : "") + " found" : "Nothing found";
    if (data.more) text += "; type more to narrow";
    if (n) text += " · " + n + " ticked";
    status.textContent = text + ".";
  }

  function run() {
    var query = "?q=" + encodeURIComponent(search.value.trim()) + "&kind=" + encodeURIComponent(kind.value);
    if (pending) pending.abort();
    pending = new AbortController();
    status.textContent = "Searching…";
    fetch(url + query, {credentials: "same-origin", headers: {"Accept": "application/json"}, signal: pending.signal})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(show)
      .catch(function (e) { if (e.name !== "AbortError") status.textContent = "Search failed; type labels in the field below."; });
  }

  function later() { clearTimeout(timer); timer = setTimeout(run, 200); }
  search.addEventListener("input", later);
  // Enter in the search box searches now; it must not submit the run form.
  search.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); run(); } });
  kind.addEventListener("change", run);
})();
