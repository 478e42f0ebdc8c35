/* The duty console and the review need a live session: when the server refuses a callback
   because the session has expired (403), go to the sign-in page instead of freezing. */
(function () {
  "use strict";
  var screens = ["/duty", "/review"];
  if (!window.fetch || screens.indexOf(window.location.pathname.replace(/\/$/, "")) < 0) { return; }
  var fetch0 = window.fetch;
  window.fetch = function (input, init) {
    return fetch0.apply(this, arguments).then(function (resp) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      if (resp.status === 403 && url.indexOf("_dash-update-component") >= 0) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
      }
      return resp;
    });
  };
})();
