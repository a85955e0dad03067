/* A cell renderer of the shared data grid (components/grid.py): an alert's level as its coloured
   badge (the classes of assets/style.css: .lvl-badge.lvl-red ...), from the row's `level` and
   its translated `level_name`. Used as cellRenderer "hdBadge". */
(function () {
  var fns = window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {};
  fns.hdBadge = function (props) {
    var d = props.data || {};
    return React.createElement("span", {className: "badge lvl-badge lvl-" + String(d.level || "")},
                               String(d.level_name || ""));
  };
})();
