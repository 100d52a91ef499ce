// Progressive enhancement only: every page works without it.
(function () {
  "use strict";
  function render(el) {
    var left = Math.round((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
    var sign = left < 0 ? "-" : "";
    var s = Math.abs(left), m = Math.floor(s / 60), r = s % 60;
    el.textContent = (left < 0 ? el.getAttribute("data-overdue") + " " : "") + sign + m + ":" + (r < 10 ? "0" : "") + r;
  }
  function tick() { document.querySelectorAll("time.countdown").forEach(render); }
  tick();
  setInterval(tick, 1000);
  document.querySelectorAll("button.copy").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var label = button.textContent;
      navigator.clipboard.writeText(target.getAttribute("data-secret")).then(function () {
        // Said where the eye is, and to a screen reader (the button is a live region).
        button.setAttribute("aria-live", "polite");
        button.textContent = button.getAttribute("data-copied") || label;
        setTimeout(function () { button.textContent = label; }, 2500);
      });
    });
  });
})();
