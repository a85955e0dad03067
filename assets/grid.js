/* Value formatters of the shared data grid (components/grid.py), called from AG Grid column
   definitions as {"function": "hdFormat(params.value, kind, lang, decimals, compact)"}.
   The rules mirror components/format.py: thousands separators; money optionally in 万/亿 (zh)
   or k/M/B (en); ratios as percentages (0.123 -> 12.3%); a missing number is "—". */
(function () {
  var fns = window.dashAgGridFunctions = window.dashAgGridFunctions || {};

  function fixed(v, decimals) {
    return v.toLocaleString("en-US", {minimumFractionDigits: decimals, maximumFractionDigits: decimals});
  }

  function compactAmount(v, lang) {
    var a = Math.abs(v);
    if (lang === "zh") {
      if (a >= 1e8) { return fixed(v / 1e8, 2) + "亿"; }
      if (a >= 1e4) { return fixed(v / 1e4, 1) + "万"; }
      return fixed(v, 0);
    }
    if (a >= 1e9) { return fixed(v / 1e9, 2) + "B"; }
    if (a >= 1e6) { return fixed(v / 1e6, 1) + "M"; }
    if (a >= 1e4) { return fixed(v / 1e3, 1) + "k"; }
    return fixed(v, 0);
  }

  fns.hdFormat = function (value, kind, lang, decimals, compact) {
    if (value === null || value === undefined || value === "" ||
        (typeof value === "number" && !isFinite(value))) {
      return kind === "text" || kind === "date" ? "" : "—";
    }
    if (kind === "text" || kind === "date") { return String(value); }
    var v = Number(value);
    if (kind === "percent") { return fixed(v * 100, decimals) + "%"; }
    if (kind === "change") {
      var pct = v * 100;
      if (Math.abs(pct) < Math.pow(10, -decimals) / 2) { return fixed(0, decimals) + "%"; }
      return (pct > 0 ? "+" : "") + fixed(pct, decimals) + "%";
    }
    if (kind === "money" && compact) { return compactAmount(v, lang); }
    return fixed(v, decimals);
  };

  /* The date filter's comparator for ISO date strings (yyyy-mm-dd) in the rows. */
  fns.hdDateCompare = function (filterDate, cellValue) {
    if (!cellValue) { return -1; }
    var p = String(cellValue).slice(0, 10).split("-");
    var cell = new Date(Number(p[0]), Number(p[1]) - 1, Number(p[2]));
    return cell < filterDate ? -1 : (cell > filterDate ? 1 : 0);
  };
})();
