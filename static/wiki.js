// The wiki's pages in the browser: the editor and the history
// (templates/edit.html and history.html, filled by src/web/wiki_pages.rs).
//
// The editor (form.wiki-editor):
//  - CodeMirror with markdown (static/editor.js, loaded through run.js)
//    takes the textarea's place; if it cannot load, the textarea is the editor;
//  - as the text changes, POST /api/preview renders it as the page would be,
//    and its examples run as edited code (run.js) where run.edit allows;
//  - every change is kept as a draft in localStorage, under the page's file
//    and the revision the edit started from, offered back when the editor
//    opens again, and removed once saved;
//  - Save (or Ctrl+S) is PUT /api/page. Examples that failed the save's
//    check (wiki.check_on_save) are listed, the editor staying open; on 409
//    the conflict screen shows the
//    reader's text and the current one side by side, with what differs; the
//    reader combines them in the editor, now based on the current revision,
//    and saves again. Nothing typed is dropped: the other text stays beside
//    the editor, and in the draft;
//  - Insert image, or an image pasted or dropped into the editor, is
//    POST /api/upload into the page's folder, then ![name](file) at the cursor.
// The history (article.wiki-history): Revert (POST /api/revert) for editors,
// and times in the reader's own time zone.
// Every refusal is shown as the sentence the server gave.
(function () {
  "use strict";

  var ROUTES = document.body.getAttribute("data-routes") || "";
  // Drafts: "rundocs-draft:" + this site's routes + ":" + the page's file (or
  // "new:" and the name a new page was opened with) + ":" + the base revision.
  var DRAFTS = "rundocs-draft:" + ROUTES + ":";
  var EXTENSIONS = { "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp", "image/svg+xml": "svg" };

  function add(parent, tag, className, text) {
    var node = parent.appendChild(document.createElement(tag));
    if (className) node.className = className;
    if (text) node.textContent = text;
    if (tag === "button") node.type = "button";
    return node;
  }

  // A sentence in the page's notices, with buttons ([label, action]) after
  // it; returns a function that removes it.
  function notice(box, text, kind, actions) {
    var note = add(box, "div", "wiki-notice wiki-notice-" + (kind || "info"));
    note.setAttribute("role", kind === "error" ? "alert" : "status");
    add(note, "p", "", text);
    var remove = function () { note.remove(); };
    (actions || []).forEach(function (action) {
      var button = add(note, "button", "wiki-notice-action", action[0]);
      button.addEventListener("click", function () { remove(); action[1](); });
    });
    add(note, "button", "wiki-notice-close", "Dismiss").addEventListener("click", remove);
    return remove;
  }

  // A response as { status, body }: the body parsed when it is JSON.
  function answer(response) {
    return response.text().then(function (text) {
      var body = null;
      try { body = JSON.parse(text); } catch (e) { /* not JSON */ }
      return { status: response.status, ok: response.ok, body: body || {} };
    });
  }

  function sentence(result) {
    return result.body.error || "the server answered HTTP " + result.status;
  }

  // The examples a save's check found failing, one sentence.
  function failures(check) {
    return (check && check.failed || []).map(function (failure) {
      return "block " + failure.block + " (line " + failure.line + "): " + failure.details.trim();
    }).join("; ");
  }

  // The lines of a unified diff, coloured as the history page colours them.
  function showDiff(pre, diff) {
    pre.textContent = "";
    String(diff).split("\n").forEach(function (line, number) {
      if (line === "" && number > 0) return;
      var kind = number < 2 && /^(---|\+\+\+)/.test(line) ? "file" : /^@@/.test(line) ? "hunk"
        : line[0] === "+" ? "add" : line[0] === "-" ? "del" : line[0] === "\\" ? "note" : "same";
      add(pre, "span", "diff-" + kind, line);
    });
  }

  function json(method, url, body) {
    return fetch(url, {
      method: method, cache: "no-store", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json" }
    }).then(answer);
  }

  // ---- The editor ----

  function setUpEditor(form) {
    var textarea = form.querySelector(".wiki-source");
    var pathInput = form.querySelector(".wiki-path");
    var message = form.querySelector(".wiki-message");
    var saveButton = form.querySelector(".wiki-save-button");
    var saveState = form.querySelector(".wiki-save-state");
    var notices = form.querySelector(".wiki-notices");
    var preview = form.querySelector(".wiki-preview");
    var previewState = form.querySelector(".wiki-preview-state");
    var previewProblem = form.querySelector(".wiki-preview-problem");
    var maxImage = +form.getAttribute("data-max-image-bytes");
    var runs = form.getAttribute("data-preview-runs") === "on";
    var isNew = !form.getAttribute("data-revision");
    var startPath = form.getAttribute("data-path");
    var edit = {
      base: form.getAttribute("data-revision") || null, // the revision the text started from
      start: textarea.value, // the text as it was loaded
      beside: null, // after a conflict: { label, text } shown beside the editor
      pageUrl: form.getAttribute("data-page-url"), // the page's address (from the last preview)
      saving: false
    };
    // The editor: the textarea, until CodeMirror takes its place.
    var editor = {
      text: function () { return textarea.value; },
      setText: function (text) { textarea.value = text; changed(); },
      insert: function (text) { textarea.setRangeText(text, textarea.selectionStart, textarea.selectionEnd, "end"); changed(); },
      focus: function () { textarea.focus(); }
    };
    textarea.addEventListener("input", changed);

    function path() { return isNew ? pathInput.value.trim() : startPath; }

    // ---- drafts ----

    // Drafts of this page (a new one: by the name it was opened with) start with this.
    var draftPrefix = DRAFTS + (isNew ? "new:" + startPath : startPath) + ":";
    function draftKey() { return draftPrefix + (edit.base || "new"); }

    function storeDraft() {
      var text = editor.text();
      try {
        if (text === edit.start && !edit.beside && !message.value) localStorage.removeItem(draftKey());
        else localStorage.setItem(draftKey(), JSON.stringify({
          text: text, message: message.value, base: edit.base, path: path(), beside: edit.beside, time: Date.now()
        }));
      } catch (e) { /* storage off or full: the text lasts as long as the page */ }
    }

    function dropDrafts() {
      try {
        for (var i = localStorage.length - 1; i >= 0; i--) {
          var key = localStorage.key(i);
          if (key && key.indexOf(draftPrefix) === 0) localStorage.removeItem(key);
        }
      } catch (e) { /* nothing stored */ }
    }

    // The newest draft of this page that differs from what was loaded.
    function findDraft() {
      var found = null;
      try {
        for (var i = 0; i < localStorage.length; i++) {
          var key = localStorage.key(i);
          if (!key || key.indexOf(draftPrefix) !== 0) continue;
          var draft = JSON.parse(localStorage.getItem(key));
          if (draft && typeof draft.text === "string" && (!found || draft.time > found.time)) found = draft;
        }
      } catch (e) { return null; }
      return found && (found.text !== edit.start || found.beside) ? found : null;
    }

    function offerDraft() {
      var draft = findDraft();
      if (!draft) return;
      var when = new Date(draft.time).toLocaleString();
      var older = draft.base !== edit.base
        ? " It was started from an earlier version of the page: saving it merges it with the changes made since, or shows both texts where they clash."
        : "";
      notice(notices, "You have a draft of this page from " + when + " that was not saved." + older, "info", [
        ["Restore the draft", function () { restore(draft); }],
        ["Discard it", dropDrafts]
      ]);
    }

    function restore(draft) {
      edit.base = draft.base;
      if (isNew && draft.path) pathInput.value = draft.path;
      message.value = draft.message || "";
      if (draft.beside) showBeside(draft.beside);
      editor.setText(draft.text);
      editor.focus();
    }

    // ---- the preview ----

    var previewTimer = 0, previewing = null;

    function changed() {
      storeDraft();
      clearTimeout(previewTimer);
      previewTimer = setTimeout(updatePreview, 300);
    }

    function updatePreview() {
      if (previewing) previewing.abort();
      var mine = previewing = new AbortController();
      previewState.textContent = "updating\u2026";
      fetch(ROUTES + "/api/preview", {
        method: "POST", cache: "no-store", signal: mine.signal,
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ source: editor.text(), path: path() || "new-page.md" })
      }).then(answer).then(function (result) {
        if (previewing !== mine) return;
        previewState.textContent = "";
        if (!result.ok) return previewTrouble("The preview could not be made: " + sentence(result) + ".");
        if (result.body.url) edit.pageUrl = result.body.url;
        if (result.body.problem) return previewTrouble("As it is, the page shows an error instead: " + result.body.problem);
        previewProblem.hidden = true;
        showPreview(result.body);
      }).catch(function () {
        if (previewing !== mine || mine.signal.aborted) return;
        previewState.textContent = "";
        previewTrouble("The preview could not be made: the server could not be reached.");
      });
    }

    // The last good preview stays, under a sentence saying what is wrong.
    function previewTrouble(text) {
      previewProblem.textContent = text;
      previewProblem.hidden = false;
    }

    function showPreview(rendered) {
      var fresh = document.createElement("div");
      fresh.innerHTML = rendered.html; // rendered by the server from the markdown, as the page is
      var page = new URL(rendered.url, location.href);
      // Images and links are relative to the page's address, not the editor's.
      fresh.querySelectorAll("img[src]").forEach(function (img) {
        img.src = new URL(img.getAttribute("src"), page).href;
      });
      fresh.querySelectorAll("a[href]").forEach(function (link) {
        if (link.getAttribute("href").charAt(0) === "#") return;
        link.href = new URL(link.getAttribute("href"), page).href;
        link.target = "_blank";
        link.rel = "noopener";
      });
      // A block whose code and output did not change keeps its place, and its last run.
      var kept = {};
      preview.querySelectorAll(".snippet[data-snippet-id]").forEach(function (block) {
        (kept[block.rundocsSource] = kept[block.rundocsSource] || []).push(block);
      });
      fresh.querySelectorAll(".snippet[data-snippet-id]").forEach(function (block) {
        var same = kept[block.outerHTML] && kept[block.outerHTML].shift();
        if (same) block.replaceWith(same);
        else block.rundocsSource = block.outerHTML;
      });
      preview.replaceChildren.apply(preview, Array.from(fresh.childNodes));
      if (runs && window.rundocsRun) {
        window.rundocsRun.preview(preview, function (id) { return (rendered.requires || {})[id]; });
      }
    }

    // ---- moving ----

    var moveButton = form.querySelector(".wiki-move-button");
    if (moveButton) {
      moveButton.addEventListener("click", function () {
        var to = form.querySelector(".wiki-move-to").value.trim();
        if (editor.text() !== edit.start) {
          // Moving commits the page as saved: unsaved text would be left behind.
          notice(notices, "Save your changes first (or undo them); then move the page.", "error");
          return;
        }
        moveButton.disabled = true;
        json("POST", ROUTES + "/api/move", { from: startPath, to: to, base: edit.base, message: "" }).then(function (result) {
          moveButton.disabled = false;
          if (result.ok) {
            location.assign(result.body.url);
          } else {
            notice(notices, "Not moved: " + sentence(result) + ".", "error");
          }
        }, function () {
          moveButton.disabled = false;
          notice(notices, "Not moved: the server could not be reached.", "error");
        });
      });
    }

    // ---- saving, and conflicts ----

    function save() {
      if (edit.saving) return;
      var file = path();
      if (!file) {
        notice(notices, "Name the page's file first, e.g. guide/new-page.md.", "error");
        pathInput.focus();
        return;
      }
      edit.saving = saveButton.disabled = true;
      saveState.textContent = "Saving\u2026";
      var body = { source: editor.text(), base: edit.base, message: message.value };
      json("PUT", ROUTES + "/api/page?path=" + encodeURIComponent(file), body).then(function (result) {
        edit.saving = saveButton.disabled = false;
        saveState.textContent = "";
        if (result.ok && failures(result.body.check)) {
          // Saved, but its examples failed: say which, and stay in the editor.
          dropDrafts();
          edit.base = result.body.revision;
          edit.start = body.source;
          saveState.textContent = "Saved.";
          notice(notices, "Saved, but examples of the page failed: " + failures(result.body.check), "error", [
            ["View the page", function () { location.assign(result.body.url); }]
          ]);
        } else if (result.ok) {
          dropDrafts();
          saveState.textContent = result.body.merged ? "Saved, merged with the changes made meanwhile." : "Saved.";
          location.assign(result.body.url);
        } else if (result.status === 422 && result.body.check) {
          notice(notices, "Not saved: " + sentence(result) + ". " + failures(result.body.check) + ". Your text stays here.", "error");
        } else if (result.status === 409 && typeof result.body.current === "string") {
          conflict(result.body);
        } else if (result.status === 409) {
          notice(notices, sentence(result) + ". Your text stays here.", "error", [
            ["Open the existing page", function () { location.assign(ROUTES + "/edit?path=" + encodeURIComponent(file)); }]
          ]);
        } else {
          notice(notices, "Not saved: " + sentence(result) + ". Your text stays here, and as a draft in this browser.", "error");
        }
      }, function () {
        edit.saving = saveButton.disabled = false;
        saveState.textContent = "";
        notice(notices, "Not saved: the server could not be reached. Your text stays here, and as a draft in this browser; save again once it can be reached.", "error");
      });
    }

    var conflictBox = form.querySelector(".wiki-conflict");
    var mine = conflictBox.querySelector(".wiki-conflict-yours");
    var theirs = conflictBox.querySelector(".wiki-conflict-current");
    var clash = null; // the last 409's answer

    function conflict(body) {
      clash = body;
      conflictBox.hidden = false;
      conflictBox.querySelector(".wiki-conflict-message").textContent = body.error + ".";
      conflictBox.querySelector(".wiki-conflict-choices").hidden = false;
      conflictBox.querySelector(".wiki-conflict-next").hidden = true;
      conflictBox.querySelector(".wiki-conflict-changes").hidden = false;
      mine.textContent = body.yours;
      theirs.textContent = body.current;
      mine.parentNode.hidden = theirs.parentNode.hidden = false;
      showDiff(conflictBox.querySelector(".wiki-diff"), body.diff || "");
      conflictBox.scrollIntoView({ block: "start" });
    }

    // Either way the edit is now based on the current revision, and the
    // other text stays beside the editor (and in the draft) to combine.
    function combineIn(text, beside) {
      var old = draftKey();
      edit.base = clash.current_revision;
      try { localStorage.removeItem(old); } catch (e) { /* nothing stored */ }
      showBeside(beside);
      editor.setText(text);
      editor.focus();
    }

    function showBeside(beside) {
      edit.beside = beside;
      conflictBox.hidden = false;
      conflictBox.querySelector(".wiki-conflict-choices").hidden = true;
      conflictBox.querySelector(".wiki-conflict-changes").hidden = !clash;
      var next = conflictBox.querySelector(".wiki-conflict-next");
      next.hidden = false;
      next.textContent = "The editor now holds " + (beside.mine ? "the current text" : "your text") +
        ", based on the current version of the page. Bring in what you need from " +
        (beside.mine ? "your text" : "the current text") + ", kept beside it, then save again.";
      (beside.mine ? mine : theirs).textContent = beside.text;
      (beside.mine ? mine : theirs).parentNode.hidden = false;
      (beside.mine ? theirs : mine).parentNode.hidden = true;
    }

    conflictBox.querySelector(".wiki-keep-mine").addEventListener("click", function () {
      combineIn(clash.yours, { mine: false, text: clash.current });
    });
    conflictBox.querySelector(".wiki-take-current").addEventListener("click", function () {
      combineIn(clash.current, { mine: true, text: clash.yours });
    });

    form.addEventListener("submit", function (event) { event.preventDefault(); save(); });
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        save();
      }
    });
    message.addEventListener("input", storeDraft);
    if (pathInput) pathInput.addEventListener("input", changed);

    // ---- images ----

    var imageButton = form.querySelector(".wiki-image-button");
    var imageFile = form.querySelector(".wiki-image-file");
    imageButton.hidden = false;
    imageButton.addEventListener("click", function () { imageFile.click(); });
    imageFile.addEventListener("change", function () {
      uploadImages(Array.from(imageFile.files));
      imageFile.value = "";
    });

    function uploadImages(files) {
      files.forEach(function (file) {
        var page = path();
        if (!page) return notice(notices, "Name the page's file first: its images go into its folder.", "error");
        var extension = EXTENSIONS[file.type];
        if (!extension) return notice(notices, file.name + " is not an image this site shows (PNG, JPEG, GIF, WebP or SVG).", "error");
        if (file.size > maxImage) {
          return notice(notices, file.name + " is over the limit of " + Math.floor(maxImage / 1024) + " KiB for an image; make it smaller.", "error");
        }
        var folder = page.slice(0, page.lastIndexOf("/") + 1);
        upload(file, folder, imageStem(file), extension, 1);
      });
    }

    // A file name that reads well in markdown: the file's own (pasted images
    // are all "image.png", so they get the time instead).
    function imageStem(file) {
      var stem = file.name.replace(/\.[^.]*$/, "").replace(/[^\w.-]+/g, "-").replace(/^[-.]+|-+$/g, "");
      if (!stem || stem === "image") stem = "pasted-" + new Date().toISOString().slice(0, 19).replace(/\D/g, "");
      return stem;
    }

    // Uploads `file` as FOLDER/STEM.EXT, or STEM-2, STEM-3 ... when the name is taken.
    function upload(file, folder, stem, extension, attempt) {
      var name = stem + (attempt > 1 ? "-" + attempt : "") + "." + extension;
      saveState.textContent = "Uploading " + name + "\u2026";
      fetch(ROUTES + "/api/upload?path=" + encodeURIComponent(folder + name), {
        method: "POST", body: file, headers: { "Content-Type": file.type, Accept: "application/json" }
      }).then(answer).then(function (result) {
        saveState.textContent = "";
        if (result.status === 409 && attempt < 20) return upload(file, folder, stem, extension, attempt + 1);
        if (!result.ok) return notice(notices, name + " was not uploaded: " + sentence(result) + ".", "error");
        editor.insert("![" + stem + "](" + linkTo(result.body.url) + ")");
      }, function () {
        saveState.textContent = "";
        notice(notices, name + " was not uploaded: the server could not be reached.", "error");
      });
    }

    // `url` (an address of this site) as the page links it: relative to its address.
    function linkTo(url) {
      if (!edit.pageUrl) return url;
      var folder = edit.pageUrl.slice(0, edit.pageUrl.lastIndexOf("/") + 1);
      return url.indexOf(folder) === 0 ? url.slice(folder.length) : url;
    }

    // ---- start ----

    offerDraft();
    updatePreview();
    if (window.rundocsRun) {
      window.rundocsRun.loadEditor().then(function (bundle) {
        var host = textarea.parentNode.insertBefore(document.createElement("div"), textarea);
        host.className = "wiki-source-editor";
        var text = textarea.value;
        var codemirror = bundle.open({
          host: host, doc: text, language: "markdown",
          label: "Markdown source of the page. Ctrl+S saves; Escape then Tab moves on.",
          onChange: changed,
          onRun: function () { /* Ctrl+Enter: nothing to run here */ },
          onFiles: uploadImages
        });
        textarea.hidden = true;
        editor = codemirror;
        if (textarea.value !== text) editor.setText(textarea.value); // typed while it loaded
      }, function () {
        notice(notices, "The code editor did not load; the plain text box works the same.", "info");
      });
    }
  }

  // ---- The history ----

  function setUpHistory(article) {
    var notices = article.querySelector(".wiki-notices");
    var path = article.getAttribute("data-path");
    article.querySelectorAll("time[datetime]").forEach(function (time) {
      var when = new Date(time.getAttribute("datetime"));
      if (isNaN(when)) return;
      time.title = time.textContent;
      time.textContent = when.toLocaleString();
    });
    article.querySelectorAll(".wiki-revert").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        button.disabled = true;
        var to = button.getAttribute("data-revision");
        json("POST", ROUTES + "/api/revert", { path: path, to: to, message: "" }).then(function (result) {
          button.disabled = false;
          if (result.ok) location.assign(ROUTES + "/history?path=" + encodeURIComponent(path));
          else notice(notices, "Not reverted: " + sentence(result) + ".", "error");
        }, function () {
          button.disabled = false;
          notice(notices, "Not reverted: the server could not be reached.", "error");
        });
      });
    });
  }

  if (!window.fetch || !window.AbortController) return;
  var form = document.querySelector("form.wiki-editor");
  if (form) setUpEditor(form);
  var revisions = document.querySelector("article.wiki-history");
  if (revisions) setUpHistory(revisions);
})();
