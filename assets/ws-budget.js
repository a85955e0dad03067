/* Budget execution (components/budget.py): a pace gap is a change of a share in percentage points,
   written as components/format.format_points writes it (+6.0 pp / +6.0个百分点; a missing one "—"). */
(function () {
  var fns = window.dashAgGridFunctions = window.dashAgGridFunctions || {};
  fns.wbPoints = function (value, lang) {
    if (value === null || value === undefined || value === "" || (typeof value === "number" && !isFinite(value))) {
      return "—";
    }
    var points = Math.round(Number(value) * 1000) / 10 + 0;
    var unit = lang === "zh" ? "个百分点" : " pp";
    var text = Math.abs(points).toLocaleString("en-US", {minimumFractionDigits: 1, maximumFractionDigits: 1});
    return (points > 0 ? "+" : points < 0 ? "-" : "") + text + unit;
  };
})();
