// Refreshes a sending campaign's figures every five seconds until it is done (Google's work included).
(function () {
  "use strict";
  var section = document.getElementById("progress");
  var url = section && section.getAttribute("data-refresh");
  if (!url) { return; }
  function tick() {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        section.querySelectorAll("[data-key]").forEach(function (el) {
          var v = data.progress[el.getAttribute("data-key")];
          if (v !== undefined) { el.textContent = v; }
        });
        // Google's quota may still be working through a large audience after the fan-out.
        var google = data.progress.google_pending > 0;
        if (data.status === "approved" || data.status === "sending" || google) { setTimeout(tick, 5000); }
      }).catch(function () {});
  }
  setTimeout(tick, 5000);
})();
