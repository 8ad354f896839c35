// The handover report's "Print" link (a static script: the Content-Security-Policy refuses
// javascript: links and inline handlers).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var link = document.getElementById("report-print");
  if (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      window.print();
    });
  }
});
