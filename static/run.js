// Runnable examples: Run/Stop and Copy on each .snippet. A run is
// POST /api/run/{id}, read as Server-Sent Events from a streaming fetch;
// Ctrl+Enter (Cmd+Enter) runs a focused block; when the server cannot run
// it, the recorded output is shown. Server output is only ever text.
// Where runs need signing in (body[data-runs=restricted]), GET /api/session
// says whether this reader may run; if not, Run becomes "Sign in to run".
(function () {
  "use strict";

  var MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  var SILENCE_MS = 20000; // the server sends a keep-alive every 250 ms
  var NOTES = { // for ends that come without a `message`
    timeout: "The example ran longer than its time limit and was stopped.",
    cancelled: "The run was stopped before it finished.",
    output_limit: "The example wrote more output than allowed and was stopped.",
    rejected: "The server refused to run this example."
  };
  var marks = {}; // snippet id -> function marking a line of that block
  var BASE = document.body.getAttribute("data-base") || "";
  var examples = []; // every runnable example of the page (see setUp)
  var loginUrl = null; // where this reader signs in, when the site has such a page

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

  // One block span per source line; highlight spans crossing a line end are cloned.
  function wrapLines(code) {
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
  // run) and the run going on, if any.
  function setUp(snippet) {
    var pre = snippet.querySelector("pre.code"), code = pre && pre.querySelector("code");
    var id = snippet.getAttribute("data-snippet-id");
    if (!code || !id) return;
    var example = {
      snippet: snippet, pre: pre, code: code, id: id,
      recorded: snippet.querySelector(".recorded-output"),
      lines: null, // the code's line spans, made when a line is first marked
      marked: [], // lines marked as where the last run raised
      view: null, // the output box and its parts
      run: null,
      locked: false // true once this reader may not run examples
    };
    marks[id] = function (number, title) { return markLine(example, number, title); };
    addRunBar(example);
    listen(example);
    examples.push(example);
  }

  // Marks line `number` of the example's code as where an error was raised.
  function markLine(example, number, title) {
    var line = (example.lines = example.lines || wrapLines(example.code))[number - 1];
    if (line) { line.classList.add("code-line-error"); line.title = title; }
    return line;
  }

  function clearMarks(example) {
    example.marked.forEach(function (line) { line.classList.remove("code-line-error"); line.removeAttribute("title"); });
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
    example.locked = true;
  }

  // The output box under the code, before the recorded output.
  function makeOutputBox(example) {
    var box = example.snippet.insertBefore(document.createElement("div"), example.recorded);
    box.setAttribute("aria-live", "polite");
    var view = { box: box };
    view.label = add(box, "p", "run-label");
    view.out = add(box, "pre", "run-text");
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
    var last = out.lastChild;
    (last && last.className === "run-" + kind ? last : add(out, "span", "run-" + kind)).append(text);
    out.hidden = false;
    if (atEnd) out.scrollTop = out.scrollHeight;
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
    showRunning(example);
    var mine = example.run = { abort: new AbortController(), t0: performance.now() };
    mine.heard = mine.t0;
    example.view.clock.textContent = " 0.0 s";
    mine.timer = setInterval(function () { tick(example, mine); }, 100);
    example.runButton.textContent = "Stop";
    example.runButton.classList.add("is-running");
    execute(example, mine).catch(function (error) { failed(example, mine, error); });
  }

  // An empty output box saying the example is running.
  function showRunning(example) {
    var view = example.view;
    if (example.recorded) example.recorded.hidden = true;
    view.box.className = "run-output";
    view.label.textContent = "Output";
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
    if (view.out.hidden && name !== "gone" && name !== "unavailable") append(view, "No output", "empty");
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

  async function execute(example, mine) {
    var response = mine.response = await fetch(BASE + "/api/run/" + encodeURIComponent(example.id), {
      method: "POST", headers: { Accept: "text/event-stream" }, cache: "no-store", signal: mine.abort.signal
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
    if (name === "end") ended(example, data);
    return name === "end";
  }

  function ended(example, data) {
    var name = String(data.status), error = data.error, where = "";
    var sentence = data.message || NOTES[name];
    if (name === "error" && error) where = showError(example, error);
    if (name === "exit") sentence = "The example exited with code " + data.exit_code + ".";
    var parts = [name, where, ms(data.duration_ms)];
    if (typeof data.gil_wait_ms === "number") parts.push("GIL wait " + ms(data.gil_wait_ms));
    finish(example, name, parts.filter(Boolean).join(" \u00b7 "), sentence);
  }

  // An exception: its traceback (unless the output already ends with it) and
  // its line marked in the code. Returns where it was raised ("line 3"), or "".
  function showError(example, error) {
    var trace = error.traceback || error.type + ": " + error.message + "\n";
    var shown = example.view.out.hidden ? "" : example.view.out.textContent;
    if (shown.slice(-trace.length) !== trace) append(example.view, (/[^\n]$/.test(shown) ? "\n" : "") + trace, "traceback");
    var mark = marks[error.snippet_id || example.id];
    var line = error.line > 0 && mark && mark(error.line, error.type + ": " + error.message);
    if (!line) return "";
    example.marked.push(line);
    return "line " + error.line + (mark === marks[example.id] ? "" : " of a required block");
  }

  // The server refused the run: say why, with a way on where there is one.
  async function refused(example, mine, response) {
    var code = response.status, wait = parseInt(response.headers.get("Retry-After"), 10), message;
    try { message = (await response.json()).error; } catch (e) { /* not JSON */ }
    if (example.run !== mine) return;
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

  function reloadButton() {
    var reload = document.createElement("button");
    reload.className = "run-reload";
    reload.textContent = "Reload page";
    reload.addEventListener("click", function () { location.reload(); });
    return reload;
  }

  // Copy: the clipboard API, else select the code and try execCommand (plain http).
  function copy(example) {
    if (navigator.clipboard) {
      navigator.clipboard.writeText(example.code.textContent).then(
        function () { sayOnCopyButton(example.copyButton, "Copied"); },
        function () { copyBySelection(example); });
    } else {
      copyBySelection(example);
    }
  }

  function copyBySelection(example) {
    var selection = getSelection(), copied = false;
    selection.selectAllChildren(example.code);
    try { copied = document.execCommand("copy"); } catch (e) { /* unsupported */ }
    if (copied) selection.removeAllRanges();
    sayOnCopyButton(example.copyButton, copied ? "Copied" : MAC ? "Press \u2318C" : "Press Ctrl+C");
  }

  // Shows `words` on the Copy button for two seconds.
  function sayOnCopyButton(button, words) {
    button.textContent = words;
    clearTimeout(button.timer);
    button.timer = setTimeout(function () { button.textContent = "Copy"; }, 2000);
  }

  // Where runs need signing in: ask whether this reader may run, and lock
  // every example if not (the server still decides either way).
  function lockUnlessAllowed() {
    fetch(BASE + "/api/session", { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (session) {
        if (!session || session.can_run) return;
        loginUrl = session.login_url;
        examples.forEach(lock);
      })
      .catch(function () { /* Run stays; the server still decides */ });
  }

  if (window.fetch && window.AbortController && window.TextDecoder) {
    document.querySelectorAll(".snippet[data-snippet-id]").forEach(setUp);
    if (document.body.getAttribute("data-runs") === "restricted" && examples.length) lockUnlessAllowed();
  }
})();
