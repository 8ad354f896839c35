// The dashboard's weekly chart: each bar's height comes from its data-percent. Set through the
// style property (CSSOM), which the Content-Security-Policy allows; a style="" attribute in the
// markup it would refuse.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("#weekly-chart div[data-percent]").forEach(function (bar) {
    var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.percent) || 0));
    bar.style.height = percent + "%";
  });
});
