/* A workspace picker whose options come with a section's answer (the DRG group, the DIP packet:
   pages/workspace/drg.py, pages/workspace/_dip.py). The answer is kept for everyone who may see
   the department, so it cannot carry this reader's pick; here, in the browser, the pick is kept
   while it is still offered, and the first option is taken otherwise. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  workspace: {
    keep: function (options, value) {
      var values = (options || []).map(function (o) { return o.value; });
      if (values.indexOf(value) >= 0) {
        return window.dash_clientside.no_update;
      }
      return values.length ? values[0] : null;
    }
  }
});
