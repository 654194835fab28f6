// Refreshes the progress page's figures while a campaign is open: fetches the
// server-rendered fragment and swaps it in. No data leaves this site.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.dataset.liveUrl) { return; }
  var url = live.dataset.liveUrl;
  var seconds = parseInt(live.dataset.refreshSeconds || "15", 10);
  var timer = null;

  function openDetails() {
    return Array.prototype.map.call(live.querySelectorAll("details"), function (d) { return d.open; });
  }

  function refresh() {
    if (document.hidden) { schedule(); return; }
    fetch(url, {
      credentials: "same-origin",
      headers: { "X-Svar-Auto-Refresh": "1" },
      redirect: "manual"
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        // The session ended: reload, so the login page explains why.
        window.location.reload();
        return null;
      }
      if (!response.ok) { schedule(); return null; }
      var stillLive = response.headers.get("X-Svar-Live") !== "0";
      return response.text().then(function (html) {
        var open = openDetails();
        live.innerHTML = html;
        live.querySelectorAll("details").forEach(function (d, i) { if (open[i]) { d.open = true; } });
        if (stillLive) { schedule(); }
      });
    }).catch(function () { schedule(); });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, seconds * 1000);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { refresh(); }
  });
  schedule();
}());
