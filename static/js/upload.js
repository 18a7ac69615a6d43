/* Upload page: drag-and-drop several files, one XHR per file (for its progress bar), then poll
   the status endpoint every second until each file is done or failed. Files go up one after
   another so a J-L-V sweep and its EL spectrum are paired in the order they were dropped. */
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  document.documentElement.classList.add("js");
  const input = document.getElementById("id_file");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("upload-rows");
  const panel = document.getElementById("upload-panel");
  const target = form.elements.target;
  const statusUrl = form.dataset.statusUrl;
  const queue = [];
  let busy = false;
  let timer = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function size(n) {
    return n < 1000 ? n + " B" : n < 1e6 ? (n / 1e3).toFixed(1) + " kB" : (n / 1e6).toFixed(1) + " MB";
  }
  function setBadge(row, status, text) {
    const badge = row.querySelector("[data-role=status]");
    badge.className = "badge badge-" + status;
    badge.textContent = text;
    row.className = "upload-row state-" + status;
  }

  function newRow(file) {
    const row = el("li", "upload-row state-uploading");
    const head = el("div", "upload-head");
    const name = el("span", "upload-name", file.name);
    const meta = el("span", "upload-meta muted small", size(file.size) + " → " + target.value.trim());
    const badge = el("span", "badge badge-queued", "Waiting");
    badge.dataset.role = "status";
    head.append(name, meta, badge);
    const bar = el("progress", "upload-progress");
    bar.max = 100;
    bar.value = 0;
    const msg = el("div", "upload-msg small");
    msg.dataset.role = "message";
    const result = el("div", "upload-result");
    result.dataset.role = "result";
    row.append(head, bar, msg, result);
    panel.hidden = false;
    list.prepend(row);
    return row;
  }

  function enqueue(files) {
    if (!target.value.trim()) {
      target.closest(".field").classList.add("has-error");
      target.focus();
      showFieldError("Give the sample, device or pixel label first.");
      return;
    }
    // A device with pixels: each file gets a pixel picker first, set to the pixel its name names
    // (the server's own reading, measurement-upload-pixels); other targets upload at once.
    const query = new URLSearchParams({ target: target.value.trim() });
    for (const file of files) query.append("name", file.name);
    fetch(form.dataset.pixelsUrl + "?" + query.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { pixels: [] }; })
      .catch(function () { return { pixels: [] }; })
      .then(function (info) {
        if (info.pixels && info.pixels.length) stage(files, info);
        else send_all(files, null);
      });
  }

  function send_all(files, pixels) {
    files.forEach(function (file, i) { queue.push({ file: file, row: newRow(file), pixel: pixels ? pixels[i] : null }); });
    next();
  }

  function stage(files, info) {
    const box = document.getElementById("pixel-staging");
    const rows = document.getElementById("pixel-staging-rows");
    rows.innerHTML = "";
    files.forEach(function (file, i) {
      const guess = (info.files[file.name] || {});
      const li = el("li", "staging-row");
      const id = "pixel-for-" + i;
      const label = el("label", "upload-name", file.name);
      label.htmlFor = id;
      const select = el("select", "pixel-select");
      select.id = id;
      select.dataset.index = String(i);
      select.append(el("option", "", "— no pixel —"));
      select.options[0].value = "";
      for (const p of info.pixels) {
        const option = el("option", "", p.label);
        option.value = p.name;
        if (p.name === guess.pixel) option.selected = true;
        select.append(option);
      }
      const hint = el("span", "muted small", guess.pixel ? "from its name" : (guess.why || ""));
      li.append(label, select, hint);
      rows.append(li);
    });
    box.hidden = false;
    const button = document.getElementById("pixel-staging-send");
    button.textContent = "Upload " + files.length + " file" + (files.length === 1 ? "" : "s");
    button.onclick = function () {
      const chosen = Array.from(rows.querySelectorAll("select")).map(function (s) { return s.value; });
      box.hidden = true;
      send_all(files, chosen);
    };
    document.getElementById("pixel-staging-cancel").onclick = function () { box.hidden = true; rows.innerHTML = ""; };
  }

  function showFieldError(text) {
    const field = target.closest(".field");
    let err = field.querySelector(".errorlist.js-error");
    if (!text) { if (err) err.remove(); field.classList.remove("has-error"); return; }
    if (!err) { err = el("ul", "errorlist js-error"); field.insertBefore(err, field.querySelector(".help")); }
    err.innerHTML = "";
    err.append(el("li", "", text));
    field.classList.add("has-error");
  }

  function next() {
    if (busy || !queue.length) return;
    busy = true;
    const item = queue.shift();
    send(item.file, item.row, item.pixel, function () { busy = false; next(); });
  }

  function send(file, row, pixel, done) {
    const data = new FormData();
    for (const name of ["csrfmiddlewaretoken", "target", "kind", "instrument", "calibration", "parameters"]) {
      if (form.elements[name]) data.append(name, form.elements[name].value);
    }
    // The file's own pixel (its picker), else the one chosen for every file (the plain field).
    const every = form.elements.pixel ? form.elements.pixel.value : "";
    data.append("pixel", pixel !== null && pixel !== undefined ? pixel : every);
    data.append("file", file);
    const xhr = new XMLHttpRequest();
    const bar = row.querySelector("progress");
    setBadge(row, "running", "Uploading");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", function () {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = { error: "server error (" + xhr.status + ")" }; }
      bar.value = 100;
      if (xhr.status === 200 || xhr.status === 201) {
        showFieldError("");
        row.dataset.fileId = body.id;
        const link = el("a", "upload-name", body.name);
        link.href = body.url;
        row.querySelector(".upload-name").replaceWith(link);
        if (!body.created) row.querySelector("[data-role=message]").textContent = "Already uploaded (same bytes) — showing the stored file.";
        setBadge(row, body.status, body.status === "queued" ? "Queued" : body.status);
        bar.classList.add("complete");
        poll();
      } else {
        setBadge(row, "failed", xhr.status === 409 ? "Conflict" : "Refused");
        row.querySelector("[data-role=message]").textContent = body.error || ("HTTP " + xhr.status);
        row.classList.add("refused");
        if (body.fields && body.fields.target) showFieldError(body.fields.target.join(" "));
      }
      done();
    });
    xhr.addEventListener("error", function () {
      setBadge(row, "failed", "Network error");
      row.querySelector("[data-role=message]").textContent = "The upload did not reach the server; check the connection and drop the file again.";
      done();
    });
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.send(data);
  }

  // Poll every file on the page while any is unsettled: a newly paired spectrum can give an
  // already-finished J-L-V row its EQE, so settled rows are refreshed when their analysis changes.
  function poll() {
    if (timer) return;
    timer = setTimeout(tick, 1000);
  }
  function tick() {
    timer = null;
    const rows = Array.from(list.querySelectorAll("li[data-file-id]"));
    if (!rows.length) return;
    const ids = rows.map(function (r) { return r.dataset.fileId; });
    fetch(statusUrl + "?ids=" + ids.join(","), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        let pending = false;
        for (const f of body.files) {
          for (const row of list.querySelectorAll('li[data-file-id="' + f.id + '"]')) update(row, f);
          if (!f.settled) pending = true;
        }
        // The charts are stored with the analysis (no figures drawn later): settled means complete.
        if (pending || queue.length || busy) poll();
      })
      .catch(function () { poll(); });
  }
  function update(row, f) {
    const labels = { queued: "Queued", running: "Analysing", done: "Done", failed: "Failed", stored: "Stored" };
    const waiting = f.status === "done" && f.waiting_for;
    setBadge(row, waiting ? "waiting" : f.status, waiting ? "Waiting for pair" : labels[f.status] || f.status_display);
    const msg = row.querySelector("[data-role=message]");
    msg.textContent = f.status === "failed" ? "" : waiting ? "Read as " + (f.format || "?") + "; waiting for " + f.waiting_for + "." : "";
    row.dataset.settled = f.settled ? "1" : "0";
    const key = [f.analysis, f.status, f.n_charts, Object.keys(f.metrics).length].join(":");
    if (f.settled && row.dataset.shown !== key) {
      const result = row.querySelector("[data-role=result]");
      result.innerHTML = f.html;
      row.dataset.shown = key;
      if (window.LEDgerCharts) window.LEDgerCharts.drawStored(result);  // inserted markup runs no script
    }
  }

  function take_chosen() {
    if (input.files.length) enqueue(Array.from(input.files));
    input.value = "";
  }
  input.addEventListener("change", take_chosen);
  // Files chosen before this script ran (a phone on the rig's slow Wi-Fi, the page still loading)
  // fired their change event with no one listening: take them now rather than leave them sitting.
  if (input.files.length) take_chosen();
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) enqueue(Array.from(e.dataTransfer.files));
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  target.addEventListener("input", function () { showFieldError(""); });

  // Hint only the parameters of the chosen kind.
  const kind = form.elements.kind;
  function showParams() {
    for (const row of document.querySelectorAll("#param-help .param-kind")) {
      row.hidden = Boolean(kind.value) && row.dataset.kind !== kind.value;
    }
  }
  kind.addEventListener("change", showParams);
  showParams();

  // Rows rendered by the no-JS fallback keep updating too.
  if (list.querySelector('li[data-settled="0"]')) poll();
})();
