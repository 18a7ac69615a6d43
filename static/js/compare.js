/* Compare page: small SVG charts drawn from the JSON the view embeds (no plotting library to
   vendor). Line overlays with log axes, a hover read-out, click-to-hide legend entries; and the
   parameter-vs-metric scatter coloured by recipe version. Also filters the sample pick list. */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";

  // --- sample pick list filter ---------------------------------------------------------------
  const filter = document.getElementById("sample-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      const q = filter.value.trim().toLowerCase();
      for (const li of document.querySelectorAll("#sample-pick li[data-search]")) {
        const checked = li.querySelector("input").checked;
        li.hidden = Boolean(q) && !checked && li.dataset.search.indexOf(q) === -1;
      }
    });
  }

  const dataNode = document.getElementById("compare-data");
  const data = dataNode ? JSON.parse(dataNode.textContent) : null;
  if (!data) return;

  function node(tag, attrs, parent) {
    const n = document.createElementNS(SVG, tag);
    for (const k in attrs) n.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(n);
    return n;
  }
  function fmt(v) {
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1).replace("e+", "e");
    return String(parseFloat(v.toPrecision(4)));
  }
  function niceTicks(lo, hi, n) {
    const span = hi - lo || Math.abs(hi) || 1;
    const step0 = span / n;
    const mag = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; }).find(function (s) { return span / s <= n; }) || 10 * mag;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return out;
  }
  function logTicks(lo, hi) {
    const out = [];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) if (e >= lo - 1e-9 && e <= hi + 1e-9) out.push(e);
    // Many decades on a narrow chart: label every second or third one so the labels never collide.
    const every = Math.ceil(out.length / 6);
    return out.filter(function (e) { return e % every === 0; });
  }
  function superscript(e) {
    const map = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
    return "10" + String(e).split("").map(function (c) { return map[c]; }).join("");
  }

  // One axis: maps data → pixels, linear or log10; non-positive values are dropped on log axes.
  function scale(values, log, from, to, padFraction) {
    const v = values.filter(function (x) { return x !== null && isFinite(x) && (!log || x > 0); }).map(function (x) { return log ? Math.log10(x) : x; });
    let lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    if (!v.length) { lo = 0; hi = 1; }
    if (lo === hi) { lo -= log ? 0.5 : Math.abs(lo) * 0.1 || 1; hi += log ? 0.5 : Math.abs(hi) * 0.1 || 1; }
    if (!log) { const pad = (hi - lo) * (padFraction || 0.04); lo -= pad; hi += pad; }
    const f = function (x) {
      if (x === null || !isFinite(x) || (log && x <= 0)) return null;
      const t = ((log ? Math.log10(x) : x) - lo) / (hi - lo);
      return from + t * (to - from);
    };
    f.ticks = log ? logTicks(lo, hi).map(function (e) { return { at: from + ((e - lo) / (hi - lo)) * (to - from), text: superscript(e) }; })
      : niceTicks(lo, hi, 5).map(function (t) { return { at: from + ((t - lo) / (hi - lo)) * (to - from), text: fmt(t) }; });
    return f;
  }

  function chart(container, spec) {
    const W = Math.max(container.clientWidth, 280), H = Math.round(Math.min(340, Math.max(240, W * 0.62)));
    const m = { l: 58, r: 14, t: 10, b: 44 };
    const series = spec.series;
    const allX = [].concat.apply([], series.map(function (s) { return s.x; }));
    const allY = [].concat.apply([], series.map(function (s) { return s.y; }));
    // Scatter dots carry labels: leave room at the edges.
    const pad = spec.points ? 0.12 : 0.04;
    const sx = scale(allX, spec.xlog, m.l, W - m.r, pad), sy = scale(allY, spec.ylog, H - m.b, m.t, pad);
    container.innerHTML = "";
    const svg = node("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "chart-svg", role: "img", "aria-label": spec.title || "" }, container);
    const grid = node("g", { class: "grid" }, svg);
    for (const t of sx.ticks) {
      node("line", { x1: t.at, x2: t.at, y1: m.t, y2: H - m.b }, grid);
      node("text", { x: t.at, y: H - m.b + 16, "text-anchor": "middle", class: "tick" }, svg).textContent = t.text;
    }
    for (const t of sy.ticks) {
      node("line", { x1: m.l, x2: W - m.r, y1: t.at, y2: t.at }, grid);
      node("text", { x: m.l - 6, y: t.at + 4, "text-anchor": "end", class: "tick" }, svg).textContent = t.text;
    }
    node("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, class: "frame" }, svg);
    node("text", { x: (m.l + W - m.r) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, svg).textContent = spec.xlabel;
    node("text", { x: 14, y: (m.t + H - m.b) / 2, "text-anchor": "middle", class: "axis-label", transform: "rotate(-90 14 " + (m.t + H - m.b) / 2 + ")" }, svg).textContent = spec.ylabel;
    const plotted = [];
    series.forEach(function (s, i) {
      const g = node("g", { class: "series", "data-index": i }, svg);
      const pts = [];
      let d = "", pen = false;
      for (let k = 0; k < s.x.length; k++) {
        const px = sx(s.x[k]), py = sy(s.y[k]);
        if (px === null || py === null) { pen = false; continue; }
        d += (pen ? "L" : "M") + px.toFixed(1) + " " + py.toFixed(1);
        pen = true;
        pts.push([px, py, s.x[k], s.y[k]]);
      }
      if (spec.points) {
        for (const p of pts) {
          const c = node("circle", { cx: p[0], cy: p[1], r: 5.5, fill: s.color, class: "dot" }, g);
          node("title", {}, c).textContent = s.label + ": " + fmt(p[2]) + ", " + fmt(p[3]);
        }
      } else {
        node("path", { d: d, stroke: s.color, fill: "none", "stroke-width": 1.8, "stroke-dasharray": s.dash ? "7 4" : "none" }, g);
      }
      plotted.push({ g: g, pts: pts, s: s });
    });
    // Hover read-out: the nearest point of any visible series.
    const marker = node("circle", { r: 4, class: "hover-dot", visibility: "hidden" }, svg);
    const readout = node("text", { x: W - m.r - 6, y: m.t + 16, "text-anchor": "end", class: "readout" }, svg);
    svg.addEventListener("mousemove", function (e) {
      const box = svg.getBoundingClientRect();
      const x = ((e.clientX - box.left) / box.width) * W, y = ((e.clientY - box.top) / box.height) * H;
      let best = null, bestD = 400;
      for (const p of plotted) {
        if (p.g.classList.contains("off")) continue;
        for (const q of p.pts) {
          const dd = (q[0] - x) * (q[0] - x) + (q[1] - y) * (q[1] - y);
          if (dd < bestD) { bestD = dd; best = [q, p.s]; }
        }
      }
      if (!best) { marker.setAttribute("visibility", "hidden"); readout.textContent = ""; return; }
      marker.setAttribute("cx", best[0][0]); marker.setAttribute("cy", best[0][1]);
      marker.setAttribute("fill", best[1].color); marker.setAttribute("visibility", "visible");
      readout.textContent = best[1].label + ": " + fmt(best[0][2]) + ", " + fmt(best[0][3]);
    });
    svg.addEventListener("mouseleave", function () { marker.setAttribute("visibility", "hidden"); readout.textContent = ""; });
    // Legend: click an entry to hide or show that series.
    const legend = document.createElement("ul");
    legend.className = "chart-legend";
    (spec.legend || series).forEach(function (s, i) {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch" + (s.dash ? " dashed" : "");
      sw.style.background = s.color;
      li.append(sw, document.createTextNode(s.label));
      if (!spec.legend) {
        li.title = "Click to hide or show";
        li.addEventListener("click", function () {
          plotted[i].g.classList.toggle("off");
          li.classList.toggle("off");
        });
      }
      legend.appendChild(li);
    });
    container.appendChild(legend);
  }

  function scatterSpec(sc) {
    const byGroup = {};
    for (const p of sc.points) {
      (byGroup[p.group] = byGroup[p.group] || { label: p.group, color: p.color, x: [], y: [], names: [] });
      byGroup[p.group].x.push(p.x); byGroup[p.group].y.push(p.y);
    }
    const series = Object.keys(byGroup).map(function (k) { return byGroup[k]; });
    return { xlabel: sc.xlabel, ylabel: sc.ylabel, points: true, series: series,
      legend: series.map(function (s) { return { label: "recipe " + s.label, color: s.color }; }) };
  }

  function drawAll() {
    for (const p of data.panels || []) {
      const el = document.querySelector('.chart[data-panel="' + p.id + '"]');
      if (el) chart(el, p);
    }
    const sc = document.querySelector('.chart[data-panel="scatter"]');
    if (sc && data.scatter && data.scatter.points.length) {
      chart(sc, scatterSpec(data.scatter));
      // Label each dot with its sample: the point of the scatter is knowing which one it is.
      const svg = sc.querySelector("svg");
      const dots = svg.querySelectorAll("circle.dot");
      let k = 0;
      const groups = scatterSpec(data.scatter).series;
      const names = [];
      for (const g of groups) for (const p of data.scatter.points) if (p.group === g.label) names.push(p);
      for (const dot of dots) {
        const p = names[k++];
        if (!p) continue;
        const cx = +dot.getAttribute("cx"), right = cx > svg.viewBox.baseVal.width * 0.8;
        node("text", { x: right ? cx - 8 : cx + 8, y: +dot.getAttribute("cy") - 7, "text-anchor": right ? "end" : "start", class: "dot-label" }, svg).textContent = p.label;
        dot.querySelector("title").textContent = p.label + " (" + p.run + (p.actual ? ", actual" : ", planned") + "): " + fmt(p.x) + " → " + fmt(p.y);
      }
    }
  }
  drawAll();
  let resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(drawAll, 150); });
})();
