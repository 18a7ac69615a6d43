/* Small SVG charts drawn in the browser from JSON (no plotting library to vendor), shared by the
   Compare page and the sample, device, measurement and upload pages.

   LEDgerCharts.chart(container, spec) draws one chart: line or dot series on linear or log10
   axes, a hover read-out of the nearest point, click-to-hide legend entries, and the marks,
   reference lines and bands of a stored analysis chart. ``spec`` is either Compare's panel
   ({xlabel, ylabel, xlog, ylog, series: [{label, color, x, y, dash}], points, legend}) or an
   analysis chart as stored by measurements/analysis/charts.py ({x: {label, unit, log}, y: …,
   series: [{label, x, y, style}], marks, vlines, hlines, bands, xlim, ylim}).

   LEDgerCharts.drawStored(root) draws every <div class="chart" data-charts="ID" data-index="k">
   under ``root`` from the JSON in <script id="ID" type="application/json"> (Django json_script). */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#332288", "#882255", "#117733", "#999933"];

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
  // ``fixed`` ([lo, hi] in data units) overrides the range the values give.
  // ``log`` may be a number c: symlog, linear within ±c and logarithmic beyond (a TA delay axis).
  function scale(values, log, from, to, padFraction, fixed) {
    if (typeof log === "number") return symlogScale(values, log, from, to);
    const v = values.filter(function (x) { return x !== null && isFinite(x) && (!log || x > 0); }).map(function (x) { return log ? Math.log10(x) : x; });
    let lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    if (!v.length) { lo = 0; hi = 1; }
    if (lo === hi) { lo -= log ? 0.5 : Math.abs(lo) * 0.1 || 1; hi += log ? 0.5 : Math.abs(hi) * 0.1 || 1; }
    if (!log) { const pad = (hi - lo) * (padFraction || 0.04); lo -= pad; hi += pad; }
    if (fixed) {
      const f0 = log ? (fixed[0] > 0 ? Math.log10(fixed[0]) : lo) : fixed[0], f1 = log ? Math.log10(fixed[1]) : fixed[1];
      lo = f0; hi = f1;
    }
    const f = function (x) {
      if (x === null || !isFinite(x) || (log && x <= 0)) return null;
      const t = ((log ? Math.log10(x) : x) - lo) / (hi - lo);
      return from + t * (to - from);
    };
    f.ticks = log ? logTicks(lo, hi).map(function (e) { return { at: from + ((e - lo) / (hi - lo)) * (to - from), text: superscript(e) }; })
      : niceTicks(lo, hi, 5).map(function (t) { return { at: from + ((t - lo) / (hi - lo)) * (to - from), text: fmt(t) }; });
    return f;
  }

  function symlogScale(values, c, from, to) {
    const tf = function (x) { return Math.sign(x) * Math.log10(1 + Math.abs(x) / c); };
    const v = values.filter(function (x) { return x !== null && isFinite(x); }).map(tf);
    let lo = v.length ? Math.min.apply(null, v) : 0, hi = v.length ? Math.max.apply(null, v) : 1;
    if (lo === hi) { lo -= 1; hi += 1; }
    const f = function (x) { return x === null || !isFinite(x) ? null : from + ((tf(x) - lo) / (hi - lo)) * (to - from); };
    const ticks = [0];
    for (let e = Math.floor(Math.log10(c)); e < 12; e++) {
      const p = Math.pow(10, e);
      if (tf(p) <= hi + 1e-9) ticks.push(p);
      if (tf(-p) >= lo - 1e-9) ticks.unshift(-p);
    }
    f.ticks = ticks.filter(function (t) { return tf(t) >= lo - 1e-9 && tf(t) <= hi + 1e-9; })
      .map(function (t) { return { at: f(t), text: t === 0 ? "0" : (t < 0 ? "−" : "") + superscript(Math.round(Math.log10(Math.abs(t)))) }; });
    return f;
  }

  // Diverging colour for a signed map value in [-1, 1]: white at 0, #b2182b at +1, #2166ac at −1.
  function diverging(t) {
    t = Math.max(-1, Math.min(1, t || 0));
    const end = t >= 0 ? [178, 24, 43] : [33, 102, 172], a = Math.abs(t);
    return "rgb(" + end.map(function (c) { return Math.round(255 + (c - 255) * a); }).join(",") + ")";
  }

  function axisLabel(a) { return a.unit ? a.label + " (" + a.unit + ")" : a.label; }

  // A stored analysis chart → the drawing spec (Compare's shape plus marks and reference lines).
  function fromStored(c) {
    return {
      title: c.title, xlabel: axisLabel(c.x), ylabel: axisLabel(c.y), map: c.map,
      xlog: c.x.symlog || c.x.log, ylog: c.y.symlog || c.y.log,
      xlim: c.xlim, ylim: c.ylim, marks: c.marks || [], vlines: c.vlines || [], hlines: c.hlines || [], bands: c.bands || [],
      series: c.series.map(function (s, i) {
        return { label: s.label, x: s.x, y: s.y, color: s.color || PALETTE[i % PALETTE.length],
          dash: s.style === "dashed", points: s.style === "points", dots: s.style === "linepoints" };
      }),
    };
  }

  function chart(container, spec) {
    if (spec.x && spec.y && spec.x.label !== undefined) spec = fromStored(spec);
    const W = Math.max(container.clientWidth, 280), H = Math.round(Math.min(340, Math.max(240, W * 0.62)));
    const m = { l: 58, r: 14, t: 10, b: 44 };
    const series = spec.series;
    const marks = spec.marks || [];
    const grid = spec.map;
    const allX = [].concat.apply([], series.map(function (s) { return s.x; })).concat(marks.map(function (k) { return k.x; }), grid ? grid.x : []);
    const allY = [].concat.apply([], series.map(function (s) { return s.y; })).concat(marks.map(function (k) { return k.y; }), grid ? grid.y : []);
    // Scatter dots carry labels: leave room at the edges.
    const pad = spec.points ? 0.12 : 0.04;
    const sx = scale(allX, spec.xlog, m.l, W - m.r, pad, spec.xlim), sy = scale(allY, spec.ylog, H - m.b, m.t, pad, spec.ylim);
    container.innerHTML = "";
    const svg = node("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "chart-svg", role: "img", "aria-label": spec.title || "" }, container);
    const clipId = "clip-" + Math.random().toString(36).slice(2, 9);
    node("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b }, node("clipPath", { id: clipId }, svg));
    const gridLines = node("g", { class: "grid" }, svg);
    for (const t of sx.ticks) {
      node("line", { x1: t.at, x2: t.at, y1: m.t, y2: H - m.b }, gridLines);
      node("text", { x: t.at, y: H - m.b + 16, "text-anchor": "middle", class: "tick" }, svg).textContent = t.text;
    }
    for (const t of sy.ticks) {
      node("line", { x1: m.l, x2: W - m.r, y1: t.at, y2: t.at }, gridLines);
      node("text", { x: m.l - 6, y: t.at + 4, "text-anchor": "end", class: "tick" }, svg).textContent = t.text;
    }
    node("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, class: "frame" }, svg);
    node("text", { x: (m.l + W - m.r) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, svg).textContent = spec.xlabel;
    node("text", { x: 14, y: (m.t + H - m.b) / 2, "text-anchor": "middle", class: "axis-label", transform: "rotate(-90 14 " + (m.t + H - m.b) / 2 + ")" }, svg).textContent = spec.ylabel;
    const inside = node("g", { "clip-path": "url(#" + clipId + ")" }, svg);
    if (grid) drawMap(inside, grid, sx, sy);
    for (const b of spec.bands || []) {
      const x0 = sx(b.from), x1 = sx(b.to);
      if (x0 !== null && x1 !== null) node("rect", { x: Math.min(x0, x1), y: m.t, width: Math.abs(x1 - x0), height: H - m.t - m.b, class: "band" }, inside);
    }
    for (const v of spec.vlines || []) {
      const x = sx(v.x);
      if (x !== null) node("line", { x1: x, x2: x, y1: m.t, y2: H - m.b, class: "refline" }, inside);
    }
    for (const h of spec.hlines || []) {
      const y = sy(h.y);
      if (y !== null) node("line", { x1: m.l, x2: W - m.r, y1: y, y2: y, class: "refline" }, inside);
    }
    const plotted = [];
    series.forEach(function (s, i) {
      const g = node("g", { class: "series", "data-index": i }, inside);
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
      } else if (s.points) {
        for (const p of pts) node("circle", { cx: p[0], cy: p[1], r: 1.6, fill: s.color }, g);
      } else {
        node("path", { d: d, stroke: s.color, fill: "none", "stroke-width": 1.8, "stroke-dasharray": s.dash ? "7 4" : "none" }, g);
        if (s.dots) for (const p of pts) node("circle", { cx: p[0], cy: p[1], r: 2.2, fill: s.color }, g);
      }
      plotted.push({ g: g, pts: pts, s: s });
    });
    for (const k of marks) {
      const x = sx(k.x), y = sy(k.y);
      if (x === null || y === null) continue;
      const g = node("g", { class: "mark" }, svg);
      if (k.symbol === "star") node("path", { d: starPath(x, y, 7), class: "mark-symbol" }, g);
      else if (k.symbol === "down") node("path", { d: "M" + (x - 5) + " " + (y - 9) + "L" + (x + 5) + " " + (y - 9) + "L" + x + " " + (y - 1) + "Z", class: "mark-symbol" }, g);
      else node("circle", { cx: x, cy: y, r: 4, class: "mark-symbol" }, g);
      if (k.label) {
        const right = x > W * 0.7;
        node("text", { x: right ? x - 8 : x + 8, y: y - 8, "text-anchor": right ? "end" : "start", class: "mark-label" }, g).textContent = k.label;
      }
    }
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
    // Legend: click an entry to hide or show that series (none for a single stored curve).
    if (spec.legend || series.length > 1 || !spec.marks) {
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
    return svg;
  }

  // A stored map (block-averaged z[row][col] at cell centres x, y): one rect per cell.
  function drawMap(parent, grid, sx, sy) {
    const edges = function (c, f) {
      const px = c.map(f), out = [];
      for (let i = 0; i <= px.length; i++) {
        const a = px[Math.max(0, i - 1)], b = px[Math.min(px.length - 1, i)];
        out.push(i === 0 ? a - (px[1] - a) / 2 : i === px.length ? b + (b - px[px.length - 2]) / 2 : (a + b) / 2);
      }
      return out;
    };
    const ex = edges(grid.x, sx), ey = edges(grid.y, sy);
    const g = node("g", { class: "map" }, parent);
    for (let r = 0; r < grid.z.length; r++) {
      for (let c = 0; c < grid.z[r].length; c++) {
        const v = grid.z[r][c];
        if (v === null) continue;
        node("rect", { x: Math.min(ex[c], ex[c + 1]), y: Math.min(ey[r], ey[r + 1]), width: Math.abs(ex[c + 1] - ex[c]) + 0.5,
          height: Math.abs(ey[r + 1] - ey[r]) + 0.5, fill: diverging(v / (grid.limit || 1)) }, g);
      }
    }
  }

  function starPath(x, y, r) {
    let d = "";
    for (let k = 0; k < 10; k++) {
      const rr = k % 2 ? r * 0.45 : r, a = -Math.PI / 2 + (k * Math.PI) / 5;
      d += (k ? "L" : "M") + (x + rr * Math.cos(a)).toFixed(1) + " " + (y + rr * Math.sin(a)).toFixed(1);
    }
    return d + "Z";
  }

  // Every stored chart under ``root``: one JSON block per analysis, one <div> per chart.
  const drawn = [];
  function drawStored(root) {
    const cache = {};
    for (const el of (root || document).querySelectorAll(".chart[data-charts]")) {
      const id = el.dataset.charts;
      if (!(id in cache)) {
        const src = document.getElementById(id);
        cache[id] = src ? JSON.parse(src.textContent) : [];
      }
      const spec = cache[id][+el.dataset.index];
      if (!spec) continue;
      chart(el, spec);
      if (drawn.indexOf(el) === -1) drawn.push(el);
      el._chartSpec = spec;
    }
  }
  let resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      for (const el of drawn) if (el.isConnected && el._chartSpec) chart(el, el._chartSpec);
    }, 150);
  });

  window.LEDgerCharts = { chart: chart, drawStored: drawStored, node: node, fmt: fmt, PALETTE: PALETTE };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { drawStored(document); });
  else drawStored(document);
})();
