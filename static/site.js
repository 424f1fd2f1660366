// rundocs page behaviour. Everything here is an enhancement: pages read fully
// with JavaScript off.
//  - the theme toggle (light/dark, remembered in localStorage);
//  - live reload when the server runs with --watch;
//  - search as you type (GET /_rundocs/api/search) under the header's search box,
//    with `/` to focus it and the arrow keys to pick a result. Without
//    JavaScript the box submits to the /_rundocs/search page;
//  - GET /_rundocs/api/session, asked at most once per page
//    (window.rundocsSession; run.js asks through it too);
//  - the wiki's links for editors (Edit this page, New page), shown where
//    only some readers may edit once the session says this one may.
(function () {
  "use strict";

  var THEME_KEY = "rundocs-theme";
  var root = document.documentElement;
  var routes = document.body.getAttribute("data-routes") || "";
  var session = null;

  // Who the reader is and what they may do; null when the server does not say.
  window.rundocsSession = function () {
    session = session || (window.fetch ? fetch(routes + "/api/session", { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; }) : Promise.resolve(null));
    return session;
  };

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

  function setUpSearch() {
    var form = document.querySelector("form.search");
    var input = form && form.querySelector(".search-input");
    if (!input || !window.fetch || !window.AbortController) return;
    var popup = document.createElement("div");
    popup.className = "search-popup";
    popup.id = "search-popup";
    popup.setAttribute("role", "listbox");
    popup.setAttribute("aria-label", "Search results");
    popup.hidden = true;
    form.appendChild(popup);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-controls", popup.id);
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    var pending = null, timer = 0, active = -1, options = [];

    function show(open) {
      popup.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      if (!open) { active = -1; input.removeAttribute("aria-activedescendant"); }
    }

    function option(href, className) {
      var link = popup.appendChild(document.createElement("a"));
      link.className = className;
      link.href = href;
      link.id = "search-option-" + options.length;
      link.setAttribute("role", "option");
      options.push(link);
      return link;
    }

    function render(query, hits) {
      popup.textContent = "";
      options = [];
      active = -1;
      hits.forEach(function (hit) {
        var link = option(hit.url, "search-popup-hit");
        var title = link.appendChild(document.createElement("span"));
        title.className = "search-popup-title";
        title.textContent = hit.title;
        if (hit.heading) {
          var heading = link.appendChild(document.createElement("span"));
          heading.className = "search-popup-heading";
          heading.textContent = hit.heading;
        }
        var excerpt = link.appendChild(document.createElement("span"));
        excerpt.className = "search-popup-excerpt";
        excerpt.innerHTML = hit.excerpt; // escaped by the server, matches in <mark>
      });
      if (!hits.length) {
        var none = popup.appendChild(document.createElement("p"));
        none.className = "search-popup-none";
        none.textContent = "No matches for \u201c" + query + "\u201d";
      }
      option(routes + "/search?q=" + encodeURIComponent(query), "search-popup-all").textContent =
        "All results for \u201c" + query + "\u201d";
      show(true);
    }

    function lookUp() {
      var query = input.value;
      if (pending) pending.abort();
      if (!query.trim()) { pending = null; show(false); return; }
      var mine = pending = new AbortController();
      fetch(routes + "/api/search?q=" + encodeURIComponent(query), { signal: mine.signal })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (hits) { if (pending === mine && document.activeElement === input) render(query, hits); })
        .catch(function () { /* aborted or offline: the form still works */ });
    }

    function move(step) {
      if (popup.hidden || !options.length) return;
      if (active >= 0) options[active].classList.remove("is-active");
      // -1 is the box itself; the options are 0 .. length - 1, and it wraps around.
      active = (active + 1 + step + options.length + 1) % (options.length + 1) - 1;
      if (active < 0) { input.removeAttribute("aria-activedescendant"); return; }
      options[active].classList.add("is-active");
      options[active].scrollIntoView({ block: "nearest" });
      input.setAttribute("aria-activedescendant", options[active].id);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookUp, 80);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Escape") { show(false); input.blur(); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); options[active].click(); }
    });
    input.addEventListener("focus", function () { if (input.value.trim() && options.length) show(true); });
    document.addEventListener("click", function (event) { if (!form.contains(event.target)) show(false); });
    document.addEventListener("keydown", function (event) {
      // The element typed in, also inside a shadow root (the code editor's).
      var target = event.composedPath ? event.composedPath()[0] : event.target, tag = target && target.tagName;
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
      event.preventDefault();
      input.focus();
      input.select();
    });
  }

  // The wiki's links for editors ([data-editors-only], rendered hidden where
  // only some readers may edit), and the 404 page's "Create a page here",
  // which names the address that was asked for. A reader who has not signed
  // in, where the site takes passwords, gets "Sign in to edit" instead.
  function setUpWikiLinks() {
    var create = document.querySelector(".wiki-create-link");
    if (create) {
      var base = document.body.getAttribute("data-base") || "";
      var address = location.pathname.slice(base.length).replace(/^\/+|\/+$/g, "");
      try { address = decodeURIComponent(address); } catch (e) { /* left as it is */ }
      if (address) create.href += "&path=" + encodeURIComponent(address);
    }
    var hidden = document.querySelectorAll("[data-editors-only][hidden]");
    if (!hidden.length) return;
    window.rundocsSession().then(function (who) {
      if (!who) return;
      if (who.can_edit_pages) return hidden.forEach(function (link) { link.hidden = false; });
      var edit = document.querySelector("a.wiki-edit-link[hidden]");
      if (edit && !who.user && who.login_url) {
        edit.href = who.login_url + "?next=" + encodeURIComponent(edit.getAttribute("href"));
        edit.textContent = "Sign in to edit";
        edit.hidden = false;
      }
    });
  }

  setUpThemeToggle();
  setUpLiveReload();
  setUpSearch();
  setUpWikiLinks();
})();
