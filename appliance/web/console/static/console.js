// The console works without this script; with it, panels marked
// data-live="URL" are refreshed every few seconds from their HTML fragment.
(function () {
  "use strict";
  var EVERY_MS = 3000;
  function refresh(panel) {
    var url = panel.getAttribute("data-live");
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        if (panel.contains(document.activeElement) && document.activeElement.tagName === "INPUT") { return; }
        var parsed = new DOMParser().parseFromString(html, "text/html");
        panel.replaceChildren.apply(panel, Array.prototype.slice.call(parsed.body.childNodes));
      })
      .catch(function () {});
  }
  function start() {
    var panels = document.querySelectorAll("[data-live]");
    if (!panels.length) { return; }
    setInterval(function () {
      if (document.hidden) { return; }
      panels.forEach(refresh);
    }, EVERY_MS);
  }
  document.addEventListener("DOMContentLoaded", start);
}());
