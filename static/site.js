// rundocs page behaviour. Everything here is an enhancement: pages read fully
// with JavaScript off.
//  - the theme toggle (light/dark, remembered in localStorage);
//  - live reload when the server runs with --watch.
(function () {
  "use strict";

  var THEME_KEY = "rundocs-theme";
  var root = document.documentElement;

  function currentTheme() {
    var chosen = root.getAttribute("data-theme");
    if (chosen) return chosen;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function setUpThemeToggle() {
    var button = document.querySelector(".theme-toggle");
    if (!button) return;
    function label() {
      var next = currentTheme() === "dark" ? "light" : "dark";
      button.setAttribute("aria-label", "Switch to " + next + " theme");
      button.title = "Switch to " + next + " theme";
      button.setAttribute("data-current", currentTheme());
    }
    button.hidden = false;
    label();
    button.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem(THEME_KEY, next); } catch (e) { /* not remembered */ }
      label();
    });
  }

  function setUpLiveReload() {
    var url = document.body.getAttribute("data-live-reload");
    if (!url || !window.EventSource) return;
    var mine = document.body.getAttribute("data-generation");
    var source = new EventSource(url);
    source.addEventListener("generation", function (event) {
      var data = JSON.parse(event.data);
      if (String(data.generation) !== mine) {
        source.close();
        window.location.reload();
      }
    });
  }

  setUpThemeToggle();
  setUpLiveReload();
})();
