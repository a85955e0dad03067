/* Axis numbers in the reader's language, for every figure of the app, in one place.
 *
 * Plotly writes large axis numbers with SI letters (10k, 1.5M, 2B) or in full (25,000). A
 * Chinese reader counts in 万 (10^4) and 亿 (10^8): on a page inside a lang="zh-CN" element,
 * an axis whose ticks reach 10,000 is labelled in 万 (0, 0.5万, 1万) or, from 10^8, in 亿, and
 * an SI label below that (5k) becomes the plain number (5000). English pages keep Plotly's
 * k/M/B. Plotly redraws its
 * ticks on every relayout and resize, and fires plotly_afterplot each time, so the labels are
 * rewritten after each drawing; nothing in the figure data changes.
 */
(function () {
  "use strict";
  var SI = { "": 1, k: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12 };
  var LABEL = /^([\u2212-]?)(\d{1,3}(?:,\d{3})*|\d+)(\.\d+)?([kMBGT]?)$/;

  function trim(x) {
    return String(Number(x.toFixed(2)));
  }

  /* The value of a tick label Plotly wrote (10k, 2.5M, 25,000, −3), or null for any other label. */
  function value(text) {
    var m = LABEL.exec(text);
    if (!m) { return null; }
    var v = Number(m[2].replace(/,/g, "") + (m[3] || "")) * SI[m[4]];
    return m[1] ? -v : v;
  }

  /* One axis's labels in one unit: 万 when its largest tick reaches 10,000, 亿 from 10^8, plain
     numbers below (0, 0.5万, 1万, 1.5万 rather than 0, 5,000, 1万). */
  function toZh(values) {
    var top = 0;
    values.forEach(function (v) { if (v !== null) { top = Math.max(top, Math.abs(v)); } });
    var unit = top >= 1e8 ? [1e8, "亿"] : (top >= 1e4 ? [1e4, "万"] : null);
    return values.map(function (v) {
      if (v === null) { return null; }
      var sign = v < 0 ? "\u2212" : "";
      if (v === 0) { return "0"; }
      return unit ? sign + trim(Math.abs(v) / unit[0]) + unit[1] : sign + trim(Math.abs(v));
    });
  }

  function localize(gd) {
    var host = gd.closest("[lang]");
    if (!host || host.getAttribute("lang").indexOf("zh") !== 0) { return; }
    var axes = gd.querySelectorAll(".xaxislayer-above, .yaxislayer-above, .cbaxis");
    for (var a = 0; a < axes.length; a++) {
      var ticks = axes[a].querySelectorAll("text");
      var values = [];
      var si = false;
      for (var i = 0; i < ticks.length; i++) {
        var text = ticks[i].textContent.trim();
        values.push(value(text));
        si = si || /[kMBGT]$/.test(text);
      }
      var top = Math.max.apply(null, values.map(function (v) { return v === null ? 0 : Math.abs(v); }));
      if (top < 1e4 && !si) { continue; }  /* small plain numbers stay as Plotly wrote them */
      var zh = toZh(values);
      for (var j = 0; j < ticks.length; j++) {
        if (zh[j] !== null) { ticks[j].textContent = zh[j]; }
      }
    }
  }

  function watch(gd) {
    if (gd.__numberLocale || typeof gd.on !== "function") { return; }
    gd.__numberLocale = true;
    gd.on("plotly_afterplot", function () { localize(gd); });
    localize(gd);
  }

  function scan() {
    var graphs = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < graphs.length; i++) { watch(graphs[i]); }
  }

  var pending = false;
  function later() {  /* one scan per frame, however many nodes Plotly adds */
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; scan(); });
  }

  function start() {
    new MutationObserver(later).observe(document.body, { childList: true, subtree: true });
    scan();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.hospdashNumberLocale = { toZh: function (labels) { return toZh(labels.map(value)); } };
})();
