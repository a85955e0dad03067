/* Axis numbers in the reader's language, for every figure of the app, in one place.
 *
 * Plotly writes large axis numbers with SI letters (10k, 1.5M, 2B) or in full (25,000). A
 * Chinese reader counts in 万 (10^4) and 亿 (10^8): on a page inside a lang="zh-CN" element,
 * each tick label of 10,000 or more becomes 1万, 2.5万, 1.2亿, and an SI label below that
 * (5k) becomes the plain number (5000). English pages keep Plotly's k/M/B. Plotly redraws its
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

  /* A tick label in 万/亿, or null when it is not a plain number Plotly wrote. */
  function toZh(text) {
    var m = LABEL.exec(text);
    if (!m) { return null; }
    var value = Number(m[2].replace(/,/g, "") + (m[3] || "")) * SI[m[4]];
    var sign = m[1] ? "\u2212" : "";
    if (value >= 1e8) { return sign + trim(value / 1e8) + "亿"; }
    if (value >= 1e4) { return sign + trim(value / 1e4) + "万"; }
    return m[4] ? sign + trim(value) : null;
  }

  function localize(gd) {
    var host = gd.closest("[lang]");
    if (!host || host.getAttribute("lang").indexOf("zh") !== 0) { return; }
    var ticks = gd.querySelectorAll(".xtick text, .ytick text, .cbaxis text");
    for (var i = 0; i < ticks.length; i++) {
      var zh = toZh(ticks[i].textContent.trim());
      if (zh !== null) { ticks[i].textContent = zh; }
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
  window.hospdashNumberLocale = { toZh: toZh };
})();
