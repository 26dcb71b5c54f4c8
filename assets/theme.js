// Light or dark: the visitor's choice (kept in this browser), else the system's.
(function () {
  var KEY = "valuelens-theme";
  function preferred() {
    var saved = null;
    try { saved = window.localStorage.getItem(KEY); } catch (e) { saved = null; }
    if (saved === "light" || saved === "dark") { return saved; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  function apply(theme) {
    document.documentElement.setAttribute("data-bs-theme", theme);
    document.documentElement.setAttribute("data-ag-theme-mode", theme);
    if (document.body) { document.body.setAttribute("data-ag-theme-mode", theme); }
  }
  apply(preferred());
  document.addEventListener("DOMContentLoaded", function () { apply(preferred()); });
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("#theme-toggle")) { return; }
    var next = document.documentElement.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
    try { window.localStorage.setItem(KEY, next); } catch (e) { /* private mode: not kept */ }
    apply(next);
  });
}());
