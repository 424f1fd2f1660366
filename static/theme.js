// Applies the reader's saved colour theme before the page paints.
// Loaded synchronously in <head>; site.js wires up the toggle button.
(function () {
  try {
    var saved = localStorage.getItem("rundocs-theme");
    if (saved === "light" || saved === "dark") {
      document.documentElement.setAttribute("data-theme", saved);
    }
  } catch (e) { /* storage blocked: follow the system setting */ }
})();
