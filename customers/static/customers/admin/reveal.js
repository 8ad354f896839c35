// The reveal buttons of the customer change form (templates/admin/customers/customer/
// change_form.html). Each button row is moved under its masked field (the input, or the
// read-only value), so "查看完整手机号" sits next to the mobile. A click POSTs the field and the
// reason to the fieldset's data-reveal-url and shows the raw value or the refusal; an empty
// reason is refused here first (the server refuses it too). A static file, not an inline
// script, so the page works under the Content-Security-Policy.
"use strict";
(function () {
  var fieldset = document.getElementById("scrm-reveal");
  if (!fieldset) {
    return;
  }
  var csrf = document.querySelector("[name=csrfmiddlewaretoken]");
  var rows = Array.prototype.slice.call(fieldset.querySelectorAll(".scrm-reveal-row"));
  rows.forEach(function (row) {
    var field = row.dataset.field;
    var home = document.querySelector(".field-" + field + ", .field-masked_" + field);
    var anchor = home && (home.querySelector("input, textarea, .readonly") || home);
    if (anchor && anchor.parentNode) {
      row.classList.add("scrm-reveal-inline");
      anchor.parentNode.appendChild(row);
    }
  });
  if (!fieldset.querySelector(".scrm-reveal-row")) {
    fieldset.hidden = true; // every row sits under its field
  }

  function show(out, text, failed) {
    out.textContent = text;
    out.classList.toggle("scrm-reveal-error", Boolean(failed));
  }

  rows.forEach(function (row) {
    var field = row.dataset.field;
    var button = row.querySelector("button.scrm-reveal");
    var reason = row.querySelector(".scrm-reveal-reason");
    var out = row.querySelector(".scrm-reveal-value");
    button.addEventListener("click", function () {
      if (!reason.value.trim()) {
        show(out, fieldset.dataset.reasonRequired, true);
        reason.focus();
        return;
      }
      var body = new FormData();
      body.append("field", field);
      body.append("reason", reason.value);
      fetch(fieldset.dataset.revealUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: {"X-CSRFToken": csrf ? csrf.value : ""},
      })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.value !== undefined) {
            show(out, data.value, false);
          } else {
            show(out, data.detail || fieldset.dataset.failed, true);
          }
        })
        .catch(function () { show(out, fieldset.dataset.failed, true); });
    });
  });
})();
