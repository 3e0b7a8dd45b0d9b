// Live reach: posts the composer's form (CSRF field included) as the marketer types, and shows
// the members, holders and warnings it would reach. Without this script, "Save draft" does it.
(function () {
  "use strict";
  var form = document.getElementById("composer");
  var panel = document.getElementById("reach");
  if (!form || !panel) { return; }
  var timer = null;
  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }
  function show(data) {
    if (!data.reach) {
      if (data.error) { text("reach-warnings", ""); }
      return;
    }
    if (!document.getElementById("reach-members")) {
      var empty = document.getElementById("reach-empty");
      if (empty) { empty.remove(); }
      var dl = document.createElement("dl");
      dl.className = "reach-figures";
      ["matching", "members", "passes", "apple", "google", "held", "holdout"].forEach(function (k) {
        var dt = document.createElement("dt");
        dt.textContent = panel.getAttribute("data-label-" + k) || k;
        var dd = document.createElement("dd");
        dd.id = "reach-" + k;
        dl.appendChild(dt); dl.appendChild(dd);
      });
      var ul = document.createElement("ul");
      ul.className = "warnings"; ul.id = "reach-warnings";
      panel.insertBefore(ul, panel.querySelector(".actions"));
      panel.insertBefore(dl, ul);
    }
    text("reach-matching", data.reach.matching);
    text("reach-members", data.reach.members);
    text("reach-passes", data.reach.passes);
    text("reach-apple", data.reach.apple);
    text("reach-google", data.reach.google);
    text("reach-held", data.reach.held_back);
    text("reach-holdout", data.reach.holdout);
    var list = document.getElementById("reach-warnings");
    list.textContent = "";
    data.reach.warnings.forEach(function (w) {
      var li = document.createElement("li");
      li.textContent = w.message;
      list.appendChild(li);
    });
  }
  function refresh() {
    var body = new URLSearchParams(new FormData(form));
    fetch(form.getAttribute("data-reach"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (data) { show(data); }
    }).catch(function () {});
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
})();
