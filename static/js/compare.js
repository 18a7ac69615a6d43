/* Compare page: the overlays and the parameter-vs-metric scatter (coloured by recipe version),
   drawn by static/js/charts.js from the JSON the view embeds. Also filters the sample pick list. */
(function () {
  "use strict";

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

  // Drawing is static/js/charts.js (shared with the sample, device and measurement pages).
  const node = window.LEDgerCharts.node, fmt = window.LEDgerCharts.fmt, chart = window.LEDgerCharts.chart;

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
