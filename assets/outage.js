/* A callback the server refused as a whole shows the server's plain message in a banner on top of
   the page: 503 {"error": "unavailable"} (the application database is away, shell/outage.py),
   400 {"error": "bad_input"} (a value the callback boundary refused, shell/inputs.py) and
   413 {"error": "too_large"} (the request body limit, shell/headers.py). Dash itself would only
   log them in the console. The next answered callback (the warehouse check runs every 30 seconds)
   takes the banner away. */
(function () {
  var original = window.fetch;
  if (!original) { return; }
  var SHOWN = {503: "unavailable", 400: "bad_input", 413: "too_large"};

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
      if (SHOWN[resp.status]) {
        resp.clone().json().then(function (body) {
          if (body && body.error === SHOWN[resp.status] && body.message) {
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
