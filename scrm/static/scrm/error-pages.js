// The error pages' "previous page" link: history.back() when there is a page to go back to,
// else the link's own href (the home page). A static file: the CSP allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-go-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
});
