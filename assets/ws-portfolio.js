/* Cell renderers of the workspace portfolio's grid (components/portfolio.py): an indicator cell shows
   its value with the score's arrows, the change on last year and on the previous period, and the
   target status or the healthy-range mark; the alerts cell shows a badge per level. */
(function () {
  var fns = window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {};
  function h() { return React.createElement.apply(React, arguments); }

  fns.PfCell = function (props) {
    var c = props.data && props.data[props.colDef.field + "__cell"];
    if (!c) { return "—"; }
    return h("div", {className: "pf-in"},
      h("div", {className: "pf-value"}, c.v, c.i ? h("span", {className: "pf-icon"}, c.i) : null),
      c.y ? h("div", {className: "pf-change"}, c.y) : null,
      c.m ? h("div", {className: "pf-change"}, c.m) : null,
      c.b ? h("div", {className: "pf-basis"}, c.b) : null,
      c.r ? h("div", {className: "pf-range"}, c.r) : null);
  };

  fns.PfAlerts = function (props) {
    var badges = (props.data && props.data.alerts__cell) || [];
    if (!badges.length) { return h("span", {className: "text-muted"}, props.none || ""); }
    return h("div", {className: "pf-alert-badges"}, badges.map(function (b) {
      return h("span", {key: b.lv, className: "badge lvl-badge lvl-" + b.lv + " me-1"}, b.text);
    }));
  };
})();
