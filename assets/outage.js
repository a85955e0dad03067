/* The application database's outage on an open page: a callback answered 503 {"error": "unavailable"}
   (shell/outage.py) shows its message in a banner on top of the page; the next answered callback
   (the warehouse check runs every 30 seconds) takes it away. */
(function () {
  var original = window.fetch;
  if (!original) { return; }

  function banner() {
    var el = document.getElementById("app-db-banner");
    if (!el) {
      el = document.createElement("div");
      el.id = "app-db-banner";
      el.className = "alert alert-warning mb-0";
      el.setAttribute("role", "status");
      el.hidden = true;
      document.body.prepend(el);
    }
    return el;
  }

  window.fetch = function (input) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    var answer = original.apply(this, arguments);
    if (url.indexOf("/_dash-") === -1) { return answer; }
    return answer.then(function (resp) {
      if (resp.status === 503) {
        resp.clone().json().then(function (body) {
          if (body && body.error === "unavailable") {
            var el = banner();
            el.textContent = body.message;
            el.hidden = false;
          }
        }).catch(function () { /* not our answer: nothing to show */ });
      } else if (resp.ok && document.getElementById("app-db-banner")) {
        banner().hidden = true;
      }
      return resp;
    });
  };
})();
