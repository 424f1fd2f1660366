// Runnable examples: Run/Stop and Copy on each .snippet. A run is
// POST /api/run/{id}, read as Server-Sent Events from a streaming fetch;
// Ctrl+Enter (Cmd+Enter) runs a focused block; when the server cannot run
// it, the recorded output is shown. Server output is only ever text.
// Where runs need signing in (body[data-runs=restricted]), GET /api/session
// says whether this reader may run; if not, Run becomes "Sign in to run".
//
// Where the site lets readers run code they changed (body[data-edit]: "open",
// or "restricted" and GET /api/session's can_edit), each block also gets
// Edit. The first click loads the editor (body[data-editor], static/editor.js)
// and turns the block into it; Run then sends the changed code as
// POST /api/run {"code", "snippet"} and reads the same stream. An edit is kept
// in localStorage (per page and block) until Reset, and Share puts it in the
// URL: #edit-ID=BASE64URL opens the block's editor with that code.
//
// Blocks inside [data-static] (an old revision in the wiki's history) are
// shown, not run. window.rundocsRun.preview(root, requires) sets up blocks
// added later (the wiki editor's preview): they always run as edited code,
// since their text is not saved yet.
(function () {
  "use strict";

  var MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  var SILENCE_MS = 20000; // the server sends a keep-alive every 250 ms
  var NOTES = { // for ends that come without a `message`
    timeout: "The example ran longer than its time limit and was stopped.",
    cancelled: "The run was stopped before it finished.",
    output_limit: "The example wrote more output than allowed and was stopped.",
    rejected: "The server refused to run this example.",
    crashed: "The example's process crashed."
  };
  var REFUSED_EDIT = { // why edited code was not run, when the server's answer does not say
    401: "running edited code here needs signing in",
    403: "you may not run edited code here",
    413: "it is over 64 KiB",
    429: "too many runs for now",
    503: "the server is busy"
  };
  var marks = {}; // snippet id -> function marking a line of that block
  // Where rundocs' own routes are: the base path and /_rundocs.
  var ROUTES = document.body.getAttribute("data-routes") || "";
  var EDIT = document.body.getAttribute("data-edit"); // who may run edited code: "open", "restricted" or null (nobody)
  var examples = []; // every runnable example of the page (see setUp)
  var loginUrl = null; // where this reader signs in, when the site has such a page
  var editorBundle = null; // a promise of window.rundocsEditor, once asked for
  var previewCode = {}; // snippet id -> code, of the blocks of the wiki editor's preview

  function signInLink() {
    var link = document.createElement("a");
    link.className = "run-signin";
    link.textContent = "Sign in to run";
    link.href = loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search);
    return link;
  }

  function add(parent, tag, className, text) {
    var node = parent.appendChild(document.createElement(tag));
    node.className = className;
    if (text) node.textContent = text;
    if (tag === "button") node.type = "button";
    return node;
  }

  function ms(v) {
    if (typeof v !== "number") return "";
    return v >= 1000 ? (v / 1000).toFixed(2) + " s" : (v >= 100 ? Math.round(v) : +v.toPrecision(2)) + " ms";
  }

  // One block span per source line; highlight spans crossing a line end are
  // cloned. Blocks with numbered or highlighted lines come from the server
  // cut into these spans already.
  function wrapLines(code) {
    if (code.classList.contains("code-lines")) return Array.from(code.querySelectorAll(":scope > .code-line"));
    var lines = [], path = [], frag = document.createDocumentFragment(), line, at;
    function open() {
      line = at = add(frag, "span", "code-line");
      lines.push(line);
      path.forEach(function (node) { at = at.appendChild(node.cloneNode(false)); });
    }
    function walk(parent) {
      for (var child = parent.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === 1) {
          path.push(child);
          at = at.appendChild(child.cloneNode(false));
          walk(child);
          path.pop();
          at = at.parentNode;
        } else if (child.nodeType === 3) {
          child.data.split("\n").forEach(function (text, i) {
            if (i) { line.append("\n"); open(); }
            if (text) at.append(text);
          });
        }
      }
    }
    open();
    walk(code);
    if (!line.textContent) frag.removeChild(lines.pop());
    code.replaceChildren(frag);
    code.classList.add("code-lines");
    return lines;
  }

  // An SSE event: null for comments, keep-alives and bad data.
  function parseEvent(block) {
    var name = "", data = [];
    block.split("\n").forEach(function (line) {
      var field = line.match(/^([^:]+):? ?(.*)$/) || [];
      if (field[1] === "event") name = field[2];
      if (field[1] === "data") data.push(field[2]);
    });
    try { return data.length ? { name: name, data: JSON.parse(data.join("\n")) || {} } : null; } catch (e) { return null; }
  }

  // One runnable example: its elements, its output box (made on its first
  // run) and the run going on, if any. Returns it (nothing for a block
  // without code).
  function setUp(snippet) {
    var pre = snippet.querySelector("pre.code"), code = pre && pre.querySelector("code");
    var id = snippet.getAttribute("data-snippet-id");
    if (!code || !id) return null;
    var example = {
      snippet: snippet, pre: pre, code: code, id: id,
      original: code.textContent.replace(/\n$/, ""), // the authored code, as the editor shows it
      recorded: snippet.querySelector(".recorded-output"),
      lines: null, // the code's line spans, made when a line is first marked
      marked: [], // functions that clear the marks of the last run's error
      view: null, // the output box and its parts
      run: null,
      locked: false, // true once this reader may not run examples
      editor: null, // the open editor (see openEditor), if any
      opening: null, // a promise while the editor loads
      preview: null // in the wiki editor's preview: { before: ids of the blocks it requires }
    };
    marks[id] = function (number, title) {
      return example.editor ? example.editor.markLine(number, title) : markLine(example, number, title);
    };
    addRunBar(example);
    listen(example);
    return example;
  }

  // The wiki editor's preview: every block under `root` runs as edited code,
  // after the blocks `requires(id)` names (their code goes first).
  function setUpPreview(root, requires) {
    root.querySelectorAll(".snippet[data-snippet-id]").forEach(function (snippet) {
      // A block kept from the last preview is set up already; what it requires may have changed.
      var example = snippet.rundocsExample || (snippet.rundocsExample = setUp(snippet));
      if (!example) return;
      example.preview = { before: requires(example.id) || [] };
      previewCode[example.id] = example.original;
    });
  }

  // Marks line `number` of the example's code as where an error was raised;
  // returns a function that clears the mark, or null without such a line.
  function markLine(example, number, title) {
    var line = (example.lines = example.lines || wrapLines(example.code))[number - 1];
    if (!line) return null;
    line.classList.add("code-line-error");
    line.title = title;
    return function () { line.classList.remove("code-line-error"); line.removeAttribute("title"); };
  }

  function clearMarks(example) {
    example.marked.forEach(function (unmark) { unmark(); });
    example.marked = [];
  }

  // Run, Copy and the shortcut hint, above the code.
  function addRunBar(example) {
    var bar = example.bar = example.snippet.insertBefore(document.createElement("div"), example.pre);
    bar.className = "run-bar";
    var runButton = example.runButton = add(bar, "button", "run-button", "Run");
    runButton.setAttribute("aria-keyshortcuts", MAC ? "Meta+Enter" : "Control+Enter");
    var copyButton = example.copyButton = add(bar, "button", "copy-button", "Copy");
    copyButton.setAttribute("aria-live", "polite");
    add(bar, "span", "run-hint", (MAC ? "\u2318 Enter" : "Ctrl+Enter") + " runs").setAttribute("aria-hidden", "true");
    example.pre.tabIndex = 0;
  }

  function listen(example) {
    example.runButton.addEventListener("click", function () {
      if (example.run) stop(example); else start(example);
    });
    example.copyButton.addEventListener("click", function () { copy(example); });
    example.snippet.addEventListener("keydown", function (event) {
      if (event.defaultPrevented) return; // the editor ran it already
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
        event.preventDefault();
        start(example);
      }
    });
  }

  // This reader may not run examples: Run becomes "Sign in to run" (or is disabled).
  function lock(example) {
    if (loginUrl) {
      var link = signInLink();
      link.classList.add("run-button");
      example.bar.replaceChild(link, example.runButton);
    } else {
      example.runButton.disabled = true;
      example.runButton.title = "Running examples here needs signing in";
    }
    example.bar.querySelector(".run-hint").hidden = true;
    if (example.editButton) example.editButton.hidden = true;
    example.locked = true;
  }

  // The output box under the code, before the recorded output.
  function makeOutputBox(example) {
    var box = example.snippet.insertBefore(document.createElement("div"), example.recorded);
    box.setAttribute("aria-live", "polite");
    var view = { box: box };
    view.label = add(box, "p", "run-label");
    // Text and displays in the order they came: runs of text in <pre>s.
    view.out = add(box, "div", "run-text");
    view.note = add(box, "p", "run-note");
    view.status = add(box, "p", "run-status");
    view.state = add(view.status, "span", "run-state");
    view.clock = add(view.status, "span", "run-clock");
    view.clock.setAttribute("aria-hidden", "true");
    return view;
  }

  function append(view, text, kind) {
    if (!text) return;
    var out = view.out;
    var atEnd = out.scrollHeight - out.scrollTop - out.clientHeight < 8;
    var segment = out.lastChild && out.lastChild.tagName === "PRE" ? out.lastChild : add(out, "pre", "run-segment");
    var last = segment.lastChild;
    (last && last.className === "run-" + kind ? last : add(segment, "span", "run-" + kind)).append(text);
    out.hidden = false;
    if (atEnd) out.scrollTop = out.scrollHeight;
  }

  // Rich output (a figure, a table): the server sends it cleaned; the
  // richest form the page can show is used, with the text form as alt text.
  var IMAGE_TYPES = ["image/svg+xml", "image/png", "image/jpeg", "image/gif", "image/webp"];

  function display(view, bundle) {
    var data = bundle.data || {}, metadata = bundle.metadata || {};
    var text = data["text/plain"] || "";
    var out = view.out, shown = add(out, "div", "run-display");
    var image = IMAGE_TYPES.filter(function (type) { return data[type]; })[0];
    if (data["text/html"]) {
      shown.classList.add("run-html");
      shown.innerHTML = data["text/html"]; // cleaned by the server; the CSP allows no scripts
    } else if (image) {
      var img = add(shown, "img", "run-image");
      img.alt = text || "Figure";
      img.src = image === "image/svg+xml"
        ? "data:image/svg+xml;charset=utf-8," + encodeURIComponent(data[image])
        : "data:" + image + ";base64," + data[image];
      var size = metadata[image] || {};
      if (size.width) img.width = size.width;
      if (size.height) img.height = size.height;
      img.tabIndex = 0;
      img.title = "Open full size";
      img.addEventListener("click", function () { enlarge(img); });
      img.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); enlarge(img); }
      });
    } else if (data["text/latex"] || data["application/json"]) {
      add(shown, "pre", "run-segment").textContent = data["text/latex"] || data["application/json"];
    } else {
      add(shown, "pre", "run-segment").textContent = text;
    }
    out.hidden = false;
  }

  // A figure at full size, in a dialog that Escape or a click closes.
  function enlarge(img) {
    var dialog = document.body.appendChild(document.createElement("dialog"));
    dialog.className = "run-lightbox";
    var full = dialog.appendChild(img.cloneNode());
    full.removeAttribute("width");
    full.removeAttribute("height");
    full.removeAttribute("tabindex");
    full.removeAttribute("title");
    dialog.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); img.focus(); });
    dialog.showModal();
  }

  function setStatus(view, name, text) {
    view.status.setAttribute("data-status", name);
    view.box.setAttribute("data-status", name);
    view.state.textContent = text;
  }

  function start(example) {
    if (example.run || example.locked) return;
    example.view = example.view || makeOutputBox(example);
    clearMarks(example);
    var mine = example.run = { abort: new AbortController(), t0: performance.now(), request: runRequest(example) };
    showRunning(example, mine.request.edited && !example.preview);
    mine.heard = mine.t0;
    example.view.clock.textContent = " 0.0 s";
    mine.timer = setInterval(function () { tick(example, mine); }, 100);
    example.runButton.textContent = "Stop";
    example.runButton.classList.add("is-running");
    execute(example, mine).catch(function (error) { failed(example, mine, error); });
  }

  // An empty output box saying the example (or the reader's edit of it) is running.
  function showRunning(example, edited) {
    var view = example.view;
    if (example.recorded) example.recorded.hidden = true;
    view.box.className = "run-output";
    view.label.textContent = edited ? "Output of the edited code" : "Output";
    view.out.textContent = "";
    view.out.hidden = view.note.hidden = true;
    view.status.hidden = false;
    setStatus(view, "running", "Running\u2026");
  }

  // Every 100 ms of a run: the clock, and a stop once the server is silent too long.
  function tick(example, mine) {
    var now = performance.now();
    example.view.clock.textContent = " " + ((now - mine.t0) / 1000).toFixed(1) + " s";
    if (now - mine.heard > SILENCE_MS) stop(example, "it stopped answering");
  }

  function stop(example, reason) {
    example.run.reason = reason;
    example.run.abort.abort();
  }

  // The run's request failed: stopped (by the reader or for silence), or the connection broke.
  function failed(example, mine, error) {
    if (example.run !== mine) return;
    if (mine.reason) fallback(example, mine.reason);
    else if (mine.abort.signal.aborted) finish(example, "cancelled", "cancelled \u00b7 " + ms(performance.now() - mine.t0), NOTES.cancelled);
    else fallback(example, mine.response || !(error instanceof TypeError) ? "the connection was lost before the run finished" : "it could not be reached");
  }

  function finish(example, name, text, sentence, action) {
    var view = example.view;
    clearInterval(example.run.timer);
    example.run = null;
    example.runButton.textContent = "Run";
    example.runButton.classList.remove("is-running");
    view.clock.textContent = "";
    setStatus(view, name, text);
    view.note.textContent = sentence || "";
    if (action) view.note.append(" ", action);
    view.note.hidden = !sentence;
    if (view.out.hidden && name !== "gone" && name !== "unavailable" && name !== "refused") append(view, "No output", "empty");
  }

  // The server could not run it: the recorded output, if there is one.
  function fallback(example, reason) {
    var view = example.view, text = example.recorded && example.recorded.querySelector("pre");
    if (!text) return finish(example, "unavailable", "not run", "This example could not be run: " + reason + ".");
    view.out.textContent = text.textContent;
    view.out.hidden = false;
    view.box.className = "run-output run-fallback";
    view.label.textContent = "Recorded output";
    add(view.label, "span", "run-why", " (the server could not run this example: " + reason + ")");
    finish(example, "unavailable", "not run");
  }

  // What a run sends: the authored example by id, or the editor's code when
  // it differs from the authored code.
  function runRequest(example) {
    var code = example.editor ? example.editor.text() : example.original;
    if (example.preview) {
      code = example.preview.before.map(function (id) { return previewCode[id]; }).concat([code]).join("\n");
      return {
        edited: true, url: ROUTES + "/api/run", body: JSON.stringify({ code: code }),
        headers: { Accept: "text/event-stream", "Content-Type": "application/json" }
      };
    }
    if (code === example.original) {
      return { edited: false, url: ROUTES + "/api/run/" + encodeURIComponent(example.id), headers: { Accept: "text/event-stream" } };
    }
    return {
      edited: true, url: ROUTES + "/api/run", body: JSON.stringify({ code: code, snippet: example.id }),
      headers: { Accept: "text/event-stream", "Content-Type": "application/json" }
    };
  }

  async function execute(example, mine) {
    var request = mine.request;
    var response = mine.response = await fetch(request.url, {
      method: "POST", headers: request.headers, body: request.body, cache: "no-store", signal: mine.abort.signal
    });
    if (!response.ok) return refused(example, mine, response);
    return readEvents(example, mine, response.body.getReader());
  }

  // Applies the stream's events until `end`; fails if the stream ends first.
  async function readEvents(example, mine, reader) {
    var decoder = new TextDecoder(), buffer = "";
    for (;;) {
      var chunk = await reader.read();
      mine.heard = performance.now();
      var events = (buffer + decoder.decode(chunk.value, { stream: !chunk.done })).replace(/\r\n/g, "\n").split("\n\n");
      buffer = events.pop();
      for (var i = 0; i < events.length; i++) {
        var event = parseEvent(events[i]);
        if (event && handle(example, event.name, event.data)) return reader.cancel();
      }
      if (chunk.done) throw new Error("the stream ended without an end event");
    }
  }

  // Applies one event; true after `end`.
  function handle(example, name, data) {
    if (name === "queued") setStatus(example.view, "queued", "Queued, position " + data.position);
    if (name === "start") setStatus(example.view, "running", "Running\u2026");
    if (name === "stdout" || name === "stderr") append(example.view, data.text, name);
    if (name === "display") display(example.view, data);
    if (name === "end") ended(example, data);
    return name === "end";
  }

  function ended(example, data) {
    var name = String(data.status), error = data.error, where = "";
    var sentence = data.message || NOTES[name];
    if (name === "error" && error) where = showError(example, error);
    if (name === "exit") sentence = "The example exited with code " + data.exit_code + ".";
    if (name === "crashed" && !data.message && error && error.message) sentence = error.message;
    var parts = [name, where, ms(data.duration_ms)];
    if (typeof data.gil_wait_ms === "number") parts.push("GIL wait " + ms(data.gil_wait_ms));
    finish(example, name, parts.filter(Boolean).join(" \u00b7 "), sentence);
  }

  // An exception: its traceback (unless the output already ends with it) and
  // its line marked in the code (or the editor). Returns where it was raised
  // ("line 3"), or "".
  function showError(example, error) {
    var trace = error.traceback || error.type + ": " + error.message + "\n";
    var shown = example.view.out.hidden ? "" : example.view.out.textContent;
    if (shown.slice(-trace.length) !== trace) append(example.view, (/[^\n]$/.test(shown) ? "\n" : "") + trace, "traceback");
    var at = locate(example, error), mark = marks[at.id];
    var unmark = at.line > 0 && mark && mark(at.line, error.type + ": " + error.message);
    if (!unmark) return "";
    example.marked.push(unmark);
    return "line " + at.line + (mark === marks[example.id] ? "" : " of a required block");
  }

  // The block and line an error was raised in. A preview's run sent the
  // code of the blocks it requires before its own, so its lines count on
  // through them.
  function locate(example, error) {
    if (!example.preview) return { id: error.snippet_id || example.id, line: error.line };
    var line = error.line, ids = example.preview.before;
    for (var i = 0; i < ids.length; i++) {
      var lines = String(previewCode[ids[i]]).split("\n").length;
      if (line <= lines) return { id: ids[i], line: line };
      line -= lines;
    }
    return { id: example.id, line: line };
  }

  // The server refused the run: say why, with a way on where there is one.
  async function refused(example, mine, response) {
    var code = response.status, wait = parseInt(response.headers.get("Retry-After"), 10), message;
    try { message = (await response.json()).error; } catch (e) { /* not JSON */ }
    if (example.run !== mine) return;
    if (mine.request.edited) return refusedEdit(example, code, message, wait);
    if (code === 404) {
      example.view.status.hidden = true;
      finish(example, "gone", "out of date", "This page is out of date: the example has changed on the server.", reloadButton());
    } else if (code === 401 || code === 403) {
      fallback(example, code === 401 ? "running examples here needs signing in" : message || "you may not run examples here");
      if (code === 401 && loginUrl) { example.view.note.append(signInLink()); example.view.note.hidden = false; }
    } else if (code === 503 || code === 429) {
      fallback(example, "it is busy" + (wait >= 0 ? ", try again in " + wait + " s" : ""));
    } else {
      fallback(example, message || "HTTP " + code);
    }
  }

  // A refused run of edited code: a sentence saying why, never the authored
  // code's recorded output.
  function refusedEdit(example, code, message, wait) {
    var why = String(message || REFUSED_EDIT[code] || "HTTP " + code).replace(/\.$/, "");
    if ((code === 429 || code === 503) && wait >= 0 && !/try again/.test(why)) why += "; try again in " + wait + " s";
    var action = code === 404 ? reloadButton() : code === 401 && loginUrl ? signInLink() : null;
    finish(example, "refused", "not run", "The edited code was not run: " + why + ".", action);
  }

  function reloadButton() {
    var reload = document.createElement("button");
    reload.className = "run-reload";
    reload.textContent = "Reload page";
    reload.addEventListener("click", function () { location.reload(); });
    return reload;
  }

  // Copy: the clipboard API, else select the code and try execCommand (plain
  // http). While editing, the editor's code.
  function copy(example) {
    var text = example.editor ? example.editor.text() : example.code.textContent;
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(
        function () { say(example.copyButton, "Copied"); },
        function () { copyBySelection(example); });
    } else {
      copyBySelection(example);
    }
  }

  function copyBySelection(example) {
    var selection = getSelection(), copied = false;
    if (example.editor) example.editor.selectAll(); else selection.selectAllChildren(example.code);
    try { copied = document.execCommand("copy"); } catch (e) { /* unsupported */ }
    if (copied && !example.editor) selection.removeAllRanges();
    say(example.copyButton, copied ? "Copied" : MAC ? "Press \u2318C" : "Press Ctrl+C");
  }

  // Shows `words` on a button for two seconds, then its own label again.
  function say(button, words) {
    button.label = button.label || button.textContent;
    button.textContent = words;
    clearTimeout(button.timer);
    button.timer = setTimeout(function () { button.textContent = button.label; }, 2000);
  }

  // ---- Editing: Edit, the editor, the modified mark, Reset, Share. ----

  // The editor bundle, loaded once, on the first Edit.
  function loadEditor() {
    editorBundle = editorBundle || new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = document.body.getAttribute("data-editor");
      script.onload = function () { if (window.rundocsEditor) resolve(window.rundocsEditor); else script.onerror(); };
      script.onerror = function () { editorBundle = null; script.remove(); reject(new Error("the editor did not load")); };
      document.head.appendChild(script);
    });
    return editorBundle;
  }

  // This reader may run edited code: Edit on every example, and the editors
  // a shared link or an earlier visit left open.
  function allowEditing() {
    examples.forEach(function (example) {
      if (example.locked) return;
      var button = example.editButton = add(example.bar, "button", "edit-button", "Edit");
      example.bar.insertBefore(button, example.copyButton.nextSibling);
      button.addEventListener("click", function () { openEditor(example, example.original).then(focusEditor); });
      var saved = load(example);
      if (saved !== null) openEditor(example, saved);
    });
    openShared();
    addEventListener("hashchange", openShared);
  }

  function focusEditor(example) { if (example) example.editor.focus(); }

  // Turns the example into an editor holding `text`; resolves to the example
  // (or to nothing when the editor could not load). While it is open, Run and
  // Ctrl+Enter run the editor's code.
  function openEditor(example, text) {
    if (example.editor) { example.editor.setText(text); return Promise.resolve(example); }
    if (example.opening) return example.opening;
    example.editButton.disabled = true;
    example.opening = loadEditor().then(function (bundle) {
      var host = example.snippet.insertBefore(document.createElement("div"), example.pre);
      host.className = "code-editor";
      example.editor = bundle.open({
        host: host, doc: text,
        label: "Python code of this example, editable. " + (MAC ? "Command" : "Control") + "+Enter runs it; Escape then Tab moves on.",
        onChange: function (code) { changed(example, code); },
        onRun: function () { start(example); }
      });
      example.pre.hidden = true;
      example.editButton.hidden = true;
      addEditBar(example);
      changed(example, text);
      return example;
    }, function () {
      example.editButton.disabled = false;
      say(example.editButton, "The editor could not load");
    }).finally(function () { example.opening = null; });
    return example.opening;
  }

  // The modified mark, Reset and Share, after Copy.
  function addEditBar(example) {
    var at = example.copyButton.nextSibling;
    example.modified = example.bar.insertBefore(document.createElement("span"), at);
    example.modified.className = "edit-modified";
    example.modified.textContent = "Modified";
    example.resetButton = example.bar.insertBefore(add(example.bar, "button", "edit-reset", "Reset"), at);
    example.resetButton.title = "Back to the example as written";
    example.resetButton.addEventListener("click", function () { reset(example); });
    example.shareButton = example.bar.insertBefore(add(example.bar, "button", "edit-share", "Share"), at);
    example.shareButton.title = "A link that opens this code in the editor";
    example.shareButton.setAttribute("aria-live", "polite");
    example.shareButton.addEventListener("click", function () { share(example); });
  }

  // The editor's text changed (or was first shown): the modified mark, and
  // the saved copy.
  function changed(example, code) {
    var modified = code !== example.original;
    example.modified.hidden = !modified;
    example.resetButton.disabled = !modified;
    store(example, modified ? code : null);
  }

  // Reset: the example as written; the saved copy and a shared link to it go.
  function reset(example) {
    example.editor.setText(example.original);
    clearMarks(example);
    if (shared() && shared().id === example.id) history.replaceState(null, "", location.pathname + location.search);
    example.editor.focus();
  }

  // Share: the code in the URL's fragment, shown in the address bar and
  // copied where the clipboard allows it.
  function share(example) {
    var url = location.href.split("#")[0] + "#edit-" + example.id + "=" + toBase64Url(example.editor.text());
    history.replaceState(null, "", url);
    var told = function (copied) { say(example.shareButton, copied ? "Link copied" : "Link in the address bar"); };
    if (navigator.clipboard) navigator.clipboard.writeText(url).then(function () { told(true); }, function () { told(false); });
    else told(false);
  }

  // The block and code a #edit-ID=CODE fragment names, or null.
  function shared() {
    var match = /^#edit-([\w-]+)=([\w-]*)$/.exec(location.hash);
    if (!match) return null;
    try { return { id: match[1], code: fromBase64Url(match[2]) }; } catch (e) { return null; }
  }

  function openShared() {
    var link = shared();
    var example = link && examples.find(function (e) { return e.id === link.id && e.editButton && !e.locked; });
    if (example) openEditor(example, link.code).then(function (opened) {
      if (opened) opened.snippet.scrollIntoView({ block: "start" });
    });
  }

  // UTF-8 text as unpadded base64url, and back.
  function toBase64Url(text) {
    var bytes = new TextEncoder().encode(text), binary = "";
    for (var i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64Url(data) {
    var binary = atob(data.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = Uint8Array.from(binary, function (c) { return c.charCodeAt(0); });
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }

  // The reader's edit of an example, kept per page and block until Reset.
  function storageKey(example) { return "rundocs-edit:" + location.pathname + ":" + example.id; }

  function load(example) {
    try { return localStorage.getItem(storageKey(example)); } catch (e) { return null; }
  }

  function store(example, code) {
    try {
      if (code === null) localStorage.removeItem(storageKey(example));
      else localStorage.setItem(storageKey(example), code);
    } catch (e) { /* storage off or full: the edit lasts as long as the page */ }
  }

  // Where runs or edited runs need signing in: ask what this reader may do.
  // Without the right to run, every example is locked; with the right to
  // run edited code, Edit appears (the server still decides either way).
  function askSession() {
    (window.rundocsSession ? window.rundocsSession() : fetch(ROUTES + "/api/session", { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; }))
      .then(function (session) {
        if (!session) return;
        if (!session.can_run) {
          loginUrl = session.login_url;
          examples.forEach(lock);
        } else if (session.can_edit && EDIT) {
          allowEditing();
        }
      })
      .catch(function () { /* Run stays, Edit stays away; the server still decides */ });
  }

  if (window.fetch && window.AbortController && window.TextDecoder) {
    document.querySelectorAll(".snippet[data-snippet-id]").forEach(function (snippet) {
      var example = !snippet.closest("[data-static]") && setUp(snippet);
      if (example) examples.push(example);
    });
    window.rundocsRun = { preview: setUpPreview, loadEditor: loadEditor };
    if (examples.length && (document.body.getAttribute("data-runs") === "restricted" || EDIT === "restricted")) askSession();
    else if (examples.length && EDIT === "open") allowEditing();
  }
})();
