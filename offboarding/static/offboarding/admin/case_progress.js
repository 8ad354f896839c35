// The offboarding case page reloads itself while the case runs, so the progress bars move
// (templates/admin/offboarding/offboardingcase/change_form.html sets data-reload-seconds).
"use strict";
(function () {
  var progress = document.getElementById("case-progress");
  var seconds = progress ? parseInt(progress.dataset.reloadSeconds, 10) : NaN;
  if (seconds > 0) {
    setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
