/* Browser-side timers of the leadership screens: clock, refresh tick, rotation. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  wall: {
    clock: function (_n, params) {
      var d = new Date();
      var pad = function (x) { return String(x).padStart(2, "0"); };
      var zh = params && params.lang === "zh";
      var days = zh ? ["周日", "周一", "周二", "周三", "周四", "周五", "周六"]
                    : ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + days[d.getDay()] +
        " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    },
    /* Every refresh: a new tick, with the scale figures are drawn at: the wall's root font over its
       20 px at 1920 wide (so the screen's width over 1920 on a 16:9 wall, and a readable size on a
       phone, where the page sets a fixed root font). */
    tick: function (n) {
      var root = parseFloat(window.getComputedStyle(document.documentElement).fontSize) || 20;
      return { n: n || 0, scale: root / 20 };
    },
    /* A wall table's rows flow into pages of whole rows (components/ranktable.py); each tick shows
       the next page and returns its label from the catalog's template, e.g. "page 2 of 3". */
    page: function (n, _children, template) {
      var ctx = window.dash_clientside.callback_context;
      var out = ctx && ctx.outputs_list ? ctx.outputs_list.id : "";
      var id = String(out).replace(/-page$/, "-rows");
      return new Promise(function (resolve) {
        window.setTimeout(function () {
          var box = document.getElementById(id);
          if (!box || !box.clientWidth) { resolve(""); return; }
          var pages = Math.max(1, Math.round(box.scrollWidth / box.clientWidth));
          var i = (n || 0) % pages;
          box.scrollLeft = i * box.clientWidth;
          resolve(pages > 1 ? String(template || "").replace("{page}", i + 1).replace("{pages}", pages) : "");
        }, 60);
      });
    },
    /* Mark the row of the group (or department) the screen shows, as the wall cycles or a desk
       picks one, without drawing the table again: output PREFIX-selected, rows in PREFIX-rows. */
    select: function (key, _children) {
      var ctx = window.dash_clientside.callback_context;
      var out = ctx && ctx.outputs_list ? ctx.outputs_list.id : "";
      var box = document.getElementById(String(out).replace(/-selected$/, "-rows"));
      if (box) {
        Array.prototype.forEach.call(box.children, function (row) {
          var id = null;
          try { id = JSON.parse(row.id); } catch (e) { id = null; }
          row.classList.toggle("rt-selected", !!id && id.index === key);
        });
      }
      return key || null;
    },
    /* Go to the next screen inside the app (no reload, no flicker): the position is the URL. */
    rotate: function (_n, next) {
      if (next) {
        window.history.pushState({}, "", next);
        window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
      }
      return window.dash_clientside.no_update;
    }
  }
});
