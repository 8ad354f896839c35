// The offboarding case page follows a running case: it polls the case's progress.json
// (data-url, every data-poll-seconds) and updates the step rows; when the case stops running
// it reloads once, so the buttons and messages match the new state.
"use strict";
(function () {
  var section = document.getElementById("case-progress");
  if (!section) { return; }
  var seconds = parseInt(section.dataset.pollSeconds, 10);
  if (!(seconds > 0)) { return; }

  function update(data) {
    var status = document.getElementById("case-status");
    if (status) { status.textContent = data.status_label; }
    data.steps.forEach(function (step) {
      var row = section.querySelector('tr[data-step="' + step.code + '"]');
      if (!row) { return; }
      row.querySelector(".step-status").textContent = step.status_label;
      row.querySelector(".step-count").textContent = step.done + "/" + step.total;
      row.querySelector(".step-error").textContent = step.error;
      var bar = row.querySelector("progress");
      bar.value = step.percent;
      bar.textContent = step.percent + "%";
    });
  }

  function poll() {
    fetch(section.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        update(data);
        if (data.running) { setTimeout(poll, seconds * 1000); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, seconds * 4000); });
  }
  setTimeout(poll, seconds * 1000);
})();
