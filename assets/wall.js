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
    /* Every refresh: a new tick, with the screen's width over 1920 so figures scale with it. */
    tick: function (n) {
      return { n: n || 0, scale: window.innerWidth / 1920 };
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
