// django-celery-beat's periodic task form (templates/admin/djcelery/): shows the chosen crontab
// in words under the field, as the library's inline script did.
"use strict";
(function ($) {
  var script = document.getElementById("periodic-task-overrides");
  var readableCrontabs = JSON.parse($("#readable-crontabs").text());
  var originalCrontabHelp = script.dataset.crontabHelp || "";
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var help = $(".field-crontab .help").text(originalCrontabHelp);
    help.append($("<br>"), document.createTextNode("Translation: " +
      (readableCrontabs[$("#id_crontab").val()] || "")));
  });
})(django.jQuery);
