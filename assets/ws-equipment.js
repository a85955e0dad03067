/* Workspace · equipment (components/equipment.py): a figure of the saved appraisals that may not
   exist says why in words (a payback that never comes, an IRR that does not exist); any other
   value is written by the shared grid's formatter (assets/grid.js). */
(function () {
  var fns = window.dashAgGridFunctions = window.dashAgGridFunctions || {};
  fns.wsEqOr = function (value, note, kind, lang, decimals, compact) {
    if ((value === null || value === undefined) && note) { return note; }
    return fns.hdFormat(value, kind, lang, decimals, compact);
  };
})();
