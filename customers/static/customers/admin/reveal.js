// The reveal buttons of the customer change form (templates/admin/customers/customer/
// change_form.html): POST the field and the reason to the fieldset's data-reveal-url and show
// the answer, the raw value or the refusal. A static file, not an inline script, so the page
// works under the Content-Security-Policy.
"use strict";
(function () {
  var fieldset = document.getElementById("scrm-reveal");
  if (!fieldset) {
    return;
  }
  var csrf = document.querySelector("[name=csrfmiddlewaretoken]");
  fieldset.querySelectorAll("button.scrm-reveal").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = button.dataset.field;
      var reason = fieldset.querySelector('.scrm-reveal-reason[data-field="' + field + '"]');
      var out = fieldset.querySelector('.scrm-reveal-value[data-field="' + field + '"]');
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
          out.textContent = data.value !== undefined ? data.value : (data.detail || "error");
        })
        .catch(function () { out.textContent = "error"; });
    });
  });
})();
