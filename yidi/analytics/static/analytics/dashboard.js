/* The dashboards' charts (Apache ECharts, vendored). Strict CSP: no inline script. Each chart's data is in a
 * <script type="application/json"> element named by its container's data-chart; every point carries the URL of
 * the matters behind it, and a click opens that list. Tooltips are drawn on the canvas (renderMode "richText")
 * because the HTML tooltip writes style attributes that the CSP refuses. */
(function () {
  "use strict";

  var BLUE = ["#1a56b0", "#3d9a5c", "#d9822b", "#8e5cc2", "#0f7c80", "#c2410c", "#64748b", "#a61b1b"];
  var BUCKETS = {
    count: ["#f3f6fa", "#dbe7f8", "#b3cdf0", "#7faae3", "#3f7ccc", "#1a4f9c"],
    bad: ["#f3f6fa", "#fde3dd", "#f9bfb2", "#f08f7a", "#d9533a", "#a61b1b"],
    rate: ["#f3f6fa", "#dff1e4", "#b7e0c2", "#7fc495", "#3d9a5c", "#1d6631"]
  };

  function read(id) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    try { return JSON.parse(element.textContent); } catch (error) { return null; }
  }

  function narrow() { return window.matchMedia("(max-width: 640px)").matches; }

  function base() {
    return {
      color: BLUE,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      tooltip: { renderMode: "richText", confine: true },
      animation: false
    };
  }

  function points(series) {
    return series.data.map(function (point) { return { value: point.value, url: point.url }; });
  }

  function lineOption(data) {
    var option = base();
    option.tooltip.trigger = "axis";
    option.legend = { top: 0 };
    option.grid = { left: 8, right: 16, top: 32, bottom: 8, containLabel: true };
    option.xAxis = { type: "category", data: data.categories, axisLabel: { hideOverlap: true } };
    option.yAxis = { type: "value", minInterval: 1 };
    option.series = data.series.map(function (series) {
      return { name: series.name, type: "line", smooth: false, symbolSize: 8, data: points(series),
               label: { show: data.categories.length <= 12 && !narrow(), position: "top" } };
    });
    return option;
  }

  function hbarOption(data) {
    var option = base();
    option.tooltip.trigger = "axis";
    option.tooltip.axisPointer = { type: "shadow" };
    option.legend = data.series.length > 1 ? { top: 0 } : { show: false };
    option.grid = { left: 8, right: 40, top: data.series.length > 1 ? 32 : 8, bottom: 8, containLabel: true };
    var shown = data.categories.slice(0, 15);
    option.yAxis = { type: "category", inverse: true, data: shown,
                     axisLabel: { width: narrow() ? 84 : 150, overflow: "truncate" } };
    option.xAxis = { type: "value", minInterval: 1 };
    option.series = data.series.map(function (series) {
      return { name: series.name, type: "bar", barMaxWidth: 18, data: points(series).slice(0, 15),
               label: { show: true, position: "right" } };
    });
    return option;
  }

  function pieOption(data) {
    var option = base();
    option.tooltip.trigger = "item";
    option.legend = { type: "scroll", bottom: 0 };
    option.series = [{
      name: data.series[0].name, type: "pie", radius: narrow() ? ["30%", "58%"] : ["35%", "65%"],
      center: ["50%", "45%"], avoidLabelOverlap: true,
      label: { show: !narrow(), formatter: "{b}: {c}" },
      data: data.categories.map(function (name, index) {
        var point = data.series[0].data[index];
        return { name: name, value: point.value, url: point.url };
      })
    }];
    return option;
  }

  var BUILDERS = { line: lineOption, hbar: hbarOption, pie: pieOption };

  function open(params) {
    var url = params && params.data && params.data.url;
    if (url) { window.location.assign(url); }
  }

  function mount(element, option) {
    var chart = window.echarts.init(element, null, { renderer: "canvas", locale: "ZH" });
    chart.setOption(option);
    chart.on("click", open);
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  function drawCharts() {
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var data = read(element.getAttribute("data-chart"));
      var build = data && BUILDERS[data.kind];
      if (build && data.categories.length) { mount(element, build(data)); }
    });
  }

  function drawMap() {
    var element = document.querySelector("[data-map]");
    if (!element) { return; }
    var data = read(element.getAttribute("data-map"));
    var name = element.getAttribute("data-map-name");
    if (!data) { return; }
    fetch(element.getAttribute("data-map-url"), { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (geojson) {
        window.echarts.registerMap(name, geojson);
        var colours = BUCKETS[data.kind] || BUCKETS.count;
        var option = base();
        option.tooltip.trigger = "item";
        option.tooltip.formatter = function (params) {
          return params.name + "\n" + data.label + "：" + (params.data ? params.data.text : "—");
        };
        option.visualMap = {
          type: "piecewise", orient: "horizontal", left: "center", bottom: 0, itemWidth: 14, itemHeight: 10,
          itemGap: 4, textStyle: { fontSize: 11 },
          dimension: 0, seriesIndex: 0,
          pieces: [0, 1, 2, 3, 4, 5].map(function (bucket) {
            return { value: bucket, color: colours[bucket], label: bucket === 0 ? "少" : (bucket === 5 ? "多" : " ") };
          })
        };
        option.series = [{
          type: "map", map: name, roam: false, selectedMode: false, nameProperty: "name",
          top: 8, bottom: 36,
          label: { show: !narrow(), fontSize: 10, color: "#1f2733", textBorderColor: "#fff", textBorderWidth: 2 },
          itemStyle: { borderColor: "#fff", areaColor: "#eceff3" },
          emphasis: { label: { show: true }, itemStyle: { areaColor: "#f0a500" } },
          data: data.tiles.filter(function (tile) { return tile.feature; }).map(function (tile) {
            return { name: tile.feature, value: tile.bucket === null ? "-" : tile.bucket, text: tile.value,
                     url: tile.url };
          })
        }];
        mount(element, option);
      })
      .catch(function () { element.hidden = true; });
  }

  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function start() {
    autosubmit();
    if (!window.echarts) { return; }
    drawCharts();
    drawMap();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
