/* Draws each dashboard chart with ECharts from the JSON the page embeds (json_script). */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-charts");
  if (!source || typeof echarts === "undefined") { return; }
  var charts = JSON.parse(source.textContent);

  function option(spec) {
    var horizontal = spec.type === "bar" && spec.categories.length > 6;
    var category = { type: "category", data: spec.categories, axisLabel: { interval: 0, rotate: horizontal ? 0 : 30 } };
    var value = { type: "value" };
    return {
      // Tooltips drawn on the canvas: HTML tooltips carry inline styles the CSP refuses.
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: spec.series.map(function (s) {
        return { name: s.name, type: spec.type, data: s.data, stack: spec.stack ? "total" : undefined };
      })
    };
  }

  var drawn = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = charts[el.getAttribute("data-chart")];
    if (!spec) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    el.setAttribute("data-drawn", "true");
    drawn.push(chart);
  });
  window.addEventListener("resize", function () { drawn.forEach(function (c) { c.resize(); }); });
})();
