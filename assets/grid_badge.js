/* Cell renderers of the shared data grid (components/grid.py).
   hdBadge: an alert's level as its coloured badge (the classes of assets/style.css:
   .lvl-badge.lvl-red ...), from the row's `level` and its translated `level_name`.
   hdKnockOns: an alert's indicator with, kept in sight at the cell's right end however long the
   name, the mark of the knock-on findings it gathers (the row's `knock_ons`, e.g. "+2 连带"). */
(function () {
  var fns = window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {};
  fns.hdBadge = function (props) {
    var d = props.data || {};
    return React.createElement("span", {className: "badge lvl-badge lvl-" + String(d.level || "")},
                               String(d.level_name || ""));
  };
  fns.hdKnockOns = function (props) {
    var d = props.data || {};
    var name = React.createElement("span", {className: "hd-ko-name"}, String(props.value == null ? "" : props.value));
    if (!d.knock_ons) {
      return name;
    }
    return React.createElement("span", {className: "hd-ko"}, name,
                               React.createElement("span", {className: "hd-ko-mark"}, String(d.knock_ons)));
  };
})();
