/* The wall's clock, the SLA countdowns and the ticker's scrolling, drawn in the browser every
   second (no server round trip). Served by the app itself like every other asset. */
(function () {
  "use strict";
  var TZ = "Asia/Shanghai";
  var dateFmt = null;
  try {
    dateFmt = new Intl.DateTimeFormat("zh-CN", {timeZone: TZ, year: "numeric", month: "long", day: "numeric",
      weekday: "long", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false});
  } catch (e) { dateFmt = null; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function duration(s) {
    var neg = s < 0; s = Math.floor(Math.abs(s));
    var out;
    if (s >= 86400) { out = Math.floor(s / 86400) + "天" + Math.floor((s % 86400) / 3600) + "时"; }
    else if (s >= 3600) { out = Math.floor(s / 3600) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60); }
    else { out = Math.floor(s / 60) + ":" + pad(s % 60); }
    return (neg ? "-" : "") + out;
  }

  function tick() {
    var now = new Date();
    var clock = document.getElementById("wall-clock");
    if (clock) {
      var text = dateFmt ? dateFmt.format(now) : now.toLocaleString();
      if (clock.textContent !== text) { clock.textContent = text; }
    }
    var t = now.getTime() / 1000;
    var slas = document.querySelectorAll(".sla[data-due]");
    for (var i = 0; i < slas.length; i++) {
      var el = slas[i], due = parseFloat(el.getAttribute("data-due"));
      if (!due) { continue; }
      var left = due - t, label = el.getAttribute("data-label") || "";
      var txt = label + (left < 0 ? " 超时 " + duration(-left) : " 剩 " + duration(left));
      if (el.textContent !== txt) { el.textContent = txt; }
    }
    var track = document.querySelector(".ticker-track");
    if (track && track.parentElement) {
      var over = track.scrollWidth - track.parentElement.clientWidth;
      if (over > 4) {
        var shift = "-" + over + "px";
        if (track.style.getPropertyValue("--shift") !== shift) {
          track.style.setProperty("--shift", shift);
          track.style.setProperty("--dur", Math.max(8, over / 60) + "s");
        }
        track.classList.add("scroll");
      } else {
        track.classList.remove("scroll");
      }
    }
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
