// The hosted connect page (connect/views.py). Without JavaScript everything works by plain links, forms and redirects.
// With it: a page opened in a popup or an iframe says so (`embedded=1`), and the outcome page posts the result to
// the window that opened or embeds it, for each of the workspace's allowed origins only (docs/connect.md).
(function () {
  "use strict";
  var embedded = !!window.opener || window.parent !== window;

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    if (embedded) {
      document.querySelectorAll("[data-embedded]").forEach(function (input) { input.value = "1"; });
      document.querySelectorAll("a[data-keep-embedded]").forEach(function (link) {
        var url = new URL(link.href, window.location.href);
        url.searchParams.set("embedded", "1");
        link.href = url.toString();
      });
    }
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();

    var outcome = document.getElementById("connect-outcome");
    var origins = document.getElementById("connect-origins");
    if (!outcome || !origins) return;
    var message = JSON.parse(outcome.textContent);
    var targets = JSON.parse(origins.textContent);
    var receiver = window.opener || (window.parent !== window ? window.parent : null);
    if (!receiver) return;
    targets.forEach(function (origin) {
      try { receiver.postMessage(message, origin); } catch (e) { /* a malformed origin: skip it */ }
    });
    if (window.opener && message.status === "success") {
      window.setTimeout(function () { window.close(); }, 300);
    }
  });
})();
