// The new-case form's staff pickers: a filter box above each list (the admin's autocomplete
// URL is switched off because it bypasses scopes; these lists are already scoped), and the
// leaver picked is taken out of the successors.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var selects = document.querySelectorAll("select[data-staff-filter]");
  var leaver = document.querySelector('select[data-staff-filter="leaver"]');
  var successors = document.querySelector('select[data-staff-filter="successors"]');
  var words = { zh: "输入姓名或用户名筛选", en: "Type a name or username to filter" };
  var placeholder = (document.documentElement.lang || "zh").indexOf("zh") === 0 ? words.zh : words.en;

  function apply(select, text) {
    var needle = text.trim().toLowerCase();
    var hidden = leaver && select === successors ? leaver.value : "";
    Array.prototype.forEach.call(select.options, function (option) {
      var matches = !needle || option.text.toLowerCase().indexOf(needle) !== -1 || option.selected;
      var isLeaver = hidden && option.value === hidden;
      option.hidden = !option.value ? false : !matches || isLeaver;
      if (isLeaver) { option.selected = false; }
    });
  }

  Array.prototype.forEach.call(selects, function (select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "staff-filter border border-base-200 rounded-default px-3 py-2 text-sm";
    box.placeholder = placeholder;
    box.setAttribute("aria-label", placeholder);
    box.dataset.filterFor = select.dataset.staffFilter;
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () { apply(select, box.value); });
  });
  if (leaver && successors) {
    leaver.addEventListener("change", function () {
      var box = document.querySelector('input[data-filter-for="successors"]');
      apply(successors, box ? box.value : "");
    });
  }
});
