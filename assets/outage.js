/* What the page does with a callback the server refused as a whole.

   503 {"error": "unavailable"} (the application database is away, shell/outage.py),
   400 {"error": "bad_input"} (a value the callback boundary refused, shell/inputs.py) and
   413 {"error": "too_large"} (the request body limit, shell/headers.py) show the server's plain
   message in a banner on top of the page; Dash itself would only log them in the console. The next
   answered callback (the warehouse check runs every 30 seconds) takes the banner away.

   401 {"error": "login required", "login": "/login"} (the session ended on the server: signed out
   everywhere, in another tab, idle, a password or role change; shell/auth.py) sends the page to the
   login page, which returns the user to the page's current path and query once signed in again.
   Dash never sees that answer: it would read its body twice and leave the old page frozen.

   The wrapper reads only a clone of an answer, so the body Dash reads is left untouched. */
(function () {
  var original = window.fetch;
  if (!original) { return; }
  var SHOWN = {503: "unavailable", 400: "bad_input", 413: "too_large"};
  var leaving = false;

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

  function showBanner(resp) {
    resp.clone().json().then(function (body) {
      if (body && body.error === SHOWN[resp.status] && body.message) {
        var el = banner();
        el.textContent = body.message;
        el.hidden = false;
      }
    }).catch(function () { /* not our answer: nothing to show */ });
  }

  /* Our 401 goes to the login page and never settles for Dash (the page is leaving);
     any other 401 goes to Dash as it came. */
  function signInAgain(resp) {
    return resp.clone().json().then(function (body) {
      var login = body && body.error === "login required" && body.login;
      if (typeof login !== "string" || login.charAt(0) !== "/" || login.charAt(1) === "/") { return resp; }
      if (!leaving) {
        leaving = true;
        var here = window.location.pathname + window.location.search;
        window.location.assign(login + "?next=" + encodeURIComponent(here));
      }
      return new Promise(function () {});
    }, function () { return resp; });
  }

  window.fetch = function (input) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    var answer = original.apply(this, arguments);
    if (url.indexOf("/_dash-") === -1) { return answer; }
    return answer.then(function (resp) {
      if (resp.status === 401) { return signInAgain(resp); }
      if (SHOWN[resp.status]) {
        showBanner(resp);
      } else if (resp.ok && document.getElementById("app-db-banner")) {
        banner().hidden = true;
      }
      return resp;
    });
  };
})();
