// Runnable examples: the Run button and the streamed output (see README).
// Everything here is an enhancement: with JavaScript off a block shows its
// code and its recorded output. Output from the server is always text.
//  - a toolbar per .snippet: Run (Stop while running) and Copy;
//  - POST /api/run/{id}, read as Server-Sent Events from a streaming fetch;
//  - Ctrl+Enter (Cmd+Enter) in a focused block runs it;
//  - when the server cannot run it, the block's recorded output.
(function () {
  "use strict";

  var MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  var KEYS = MAC ? "\u2318 Enter" : "Ctrl+Enter";
  var SILENCE_MS = 20000; // the server sends keep-alives every ~250 ms
  // Sentences for ends the server gives no `message` for.
  var NOTES = {
    timeout: "The example ran longer than its time limit of {t} s and was stopped.",
    cancelled: "The run was stopped before it finished.",
    output_limit: "The example wrote more output than allowed and was stopped.",
    rejected: "The server refused to run this example."
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function button(className, text) {
    var node = el("button", className, text);
    node.type = "button";
    return node;
  }

  function ms(value) {
    if (typeof value !== "number" || !isFinite(value)) return "";
    if (value >= 1000) return (value / 1000).toFixed(2) + " s";
    return (value >= 100 ? Math.round(value) : value.toFixed(1)) + " ms";
  }

  // Splits the highlighted code into one block span per source line, cloning
  // the highlight spans that cross line ends, so a line can be marked.
  function wrapLines(code) {
    var lines = [], path = [], line, target;
    function open() {
      line = target = el("span", "code-line");
      lines.push(line);
      path.forEach(function (node) { target = target.appendChild(node.cloneNode(false)); });
    }
    function walk(parent) {
      for (var child = parent.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === 1) {
          path.push(child);
          target = target.appendChild(child.cloneNode(false));
          walk(child);
          path.pop();
          target = target.parentNode;
        } else if (child.nodeType === 3) {
          child.data.split("\n").forEach(function (text, i) {
            if (i > 0) { line.appendChild(document.createTextNode("\n")); open(); }
            if (text) target.appendChild(document.createTextNode(text));
          });
        }
      }
    }
    open();
    walk(code);
    if (lines.length > 1 && !line.textContent) lines.pop();
    code.textContent = "";
    lines.forEach(function (node) { code.appendChild(node); });
    code.classList.add("code-lines");
    return lines;
  }

  // One SSE event from its lines; null for comments and events without data.
  function parseEvent(block) {
    var name = "message", data = [];
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") return;
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    });
    if (!data.length) return null;
    try { return { name: name, data: JSON.parse(data.join("\n")) }; } catch (e) { return null; }
  }

  var blocks = {}; // snippet id -> { mark(line, title) }

  function setUp(snippet) {
    var pre = snippet.querySelector("pre.code");
    var code = pre && pre.querySelector("code");
    var id = snippet.getAttribute("data-snippet-id");
    if (!code || !id) return;
    var recorded = snippet.querySelector(".recorded-output");
    var recordedText = recorded && recorded.querySelector("pre");
    var limit = snippet.getAttribute("data-timeout-s");
    var lines = null, marked = [], run = null;
    blocks[id] = { mark: mark };

    // Marks a 1-based line of this block's code; returns it (or null).
    function mark(number, title) {
      if (!lines) lines = wrapLines(code);
      var line = lines[number - 1];
      if (line) {
        line.classList.add("code-line-error");
        line.title = title;
      }
      return line || null;
    }

    var bar = el("div", "run-bar");
    var runButton = button("run-button", "Run");
    runButton.title = "Run this example on the server (" + KEYS + ")";
    runButton.setAttribute("aria-keyshortcuts", MAC ? "Meta+Enter" : "Control+Enter");
    var copyButton = button("copy-button", "Copy");
    copyButton.title = "Copy the code";
    copyButton.setAttribute("aria-live", "polite");
    var hint = el("span", "run-hint", KEYS + " runs");
    hint.setAttribute("aria-hidden", "true");
    bar.append(runButton, copyButton, hint);
    snippet.insertBefore(bar, pre);
    pre.tabIndex = 0;

    // The live output region, made on the first run.
    var box, label, out, note, status, state, clock;
    function makeBox() {
      box = el("div", "run-output");
      box.setAttribute("aria-live", "polite");
      label = el("p", "run-label");
      out = el("pre", "run-text");
      note = el("p", "run-note");
      status = el("p", "run-status");
      state = el("span", "run-state");
      clock = el("span", "run-clock");
      clock.setAttribute("aria-hidden", "true");
      status.append(state, clock);
      box.append(label, out, note, status);
      snippet.insertBefore(box, recorded || null);
    }

    function setLabel(text, why) {
      label.textContent = text;
      if (why) label.appendChild(el("span", "run-why", " (" + why + ")"));
    }

    function setNote(text, action) {
      note.textContent = text || "";
      if (action) note.append(" ", action);
      note.hidden = !text;
    }

    function append(text, kind) {
      if (!text) return;
      var atEnd = out.scrollHeight - out.scrollTop - out.clientHeight < 8;
      var last = out.lastChild;
      if (!last || last.className !== "run-" + kind) last = out.appendChild(el("span", "run-" + kind));
      last.appendChild(document.createTextNode(text));
      out.hidden = false;
      if (atEnd) out.scrollTop = out.scrollHeight;
    }

    function setStatus(name, text) {
      status.setAttribute("data-status", name);
      box.setAttribute("data-status", name);
      state.textContent = text;
    }

    function tick() {
      if (!run) return;
      var now = performance.now();
      clock.textContent = " " + ((now - run.t0) / 1000).toFixed(1) + " s";
      if (now - run.heard > SILENCE_MS) stop("it stopped answering");
    }

    function start() {
      if (run) return;
      if (!box) makeBox();
      marked.forEach(function (line) { line.classList.remove("code-line-error"); line.removeAttribute("title"); });
      marked = [];
      if (recorded) recorded.hidden = true;
      box.hidden = false;
      box.className = "run-output";
      setLabel("Output");
      out.textContent = "";
      out.hidden = true;
      setNote("");
      status.hidden = false;
      setStatus("running", "Running\u2026");
      run = { controller: new AbortController(), t0: performance.now(), heard: performance.now(), ended: false };
      run.timer = setInterval(tick, 100);
      tick();
      runButton.textContent = "Stop";
      runButton.title = "Stop this run";
      runButton.classList.add("is-running");
      var mine = run;
      execute(mine).catch(function (error) {
        if (run !== mine) return;
        if (mine.reason) fallback(mine.reason);
        else if (mine.controller.signal.aborted) finished("cancelled", "cancelled \u00b7 " + ms(performance.now() - mine.t0), NOTES.cancelled);
        else fallback(error && error.name === "TypeError" && !mine.response ? "it could not be reached" : "the connection was lost before the run finished");
      });
    }

    function stop(reason) {
      if (!run) return;
      run.reason = reason;
      run.controller.abort();
    }

    function done() {
      clearInterval(run.timer);
      run = null;
      clock.textContent = "";
      runButton.textContent = "Run";
      runButton.title = "Run this example on the server (" + KEYS + ")";
      runButton.classList.remove("is-running");
    }

    function finished(name, text, sentence, action) {
      done();
      setStatus(name, text);
      setNote(sentence, action);
      if (out.hidden && name !== "gone" && name !== "unavailable") {
        out.appendChild(el("span", "run-empty", "No output"));
        out.hidden = false;
      }
    }

    // The server could not run it: show the recorded output, if any.
    function fallback(reason) {
      if (recordedText) {
        out.textContent = recordedText.textContent;
        out.hidden = false;
        box.className = "run-output run-fallback";
        setLabel("Recorded output", "the server could not run this example: " + reason);
        finished("unavailable", "not run", "");
      } else {
        finished("unavailable", "not run", "This example could not be run: " + reason + ".");
      }
    }

    async function execute(mine) {
      var response = await fetch("/api/run/" + encodeURIComponent(id), {
        method: "POST",
        headers: { Accept: "text/event-stream" },
        cache: "no-store",
        signal: mine.controller.signal
      });
      mine.response = response;
      mine.heard = performance.now();
      if (!response.ok) return refused(mine, response);
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      for (;;) {
        var chunk = await reader.read();
        if (run !== mine) return reader.cancel();
        mine.heard = performance.now();
        buffer += decoder.decode(chunk.value || new Uint8Array(0), { stream: !chunk.done });
        var blocks = buffer.replace(/\r\n/g, "\n").split("\n\n");
        buffer = blocks.pop();
        for (var i = 0; i < blocks.length; i++) {
          var event = parseEvent(blocks[i]);
          if (event && handle(event)) return reader.cancel();
        }
        if (chunk.done) throw new Error("stream ended without an end event");
      }
    }

    // Applies one event; true after `end`.
    function handle(event) {
      var data = event.data || {};
      if (event.name === "queued") setStatus("queued", "Queued, position " + data.position);
      else if (event.name === "start") setStatus("running", "Running\u2026");
      else if (event.name === "stdout" || event.name === "stderr") append(data.text, event.name);
      else if (event.name === "end") {
        ended(data);
        return true;
      }
      return false;
    }

    function ended(data) {
      var name = String(data.status || "unknown");
      var error = data.error;
      var sentence = data.message || (NOTES[name] ? NOTES[name].replace("{t}", limit) : "");
      var where = "";
      if (name === "error" && error && typeof error === "object") {
        var trace = error.traceback || (error.type || "Error") + ": " + (error.message || "") + "\n";
        var shown = out.textContent;
        if (shown.slice(-trace.length) !== trace) append((shown && shown.slice(-1) !== "\n" ? "\n" : "") + trace, "traceback");
        var block = blocks[error.snippet_id || id];
        if (error.line > 0 && block) {
          where = "line " + error.line + (block.mark === mark ? "" : " of a required block");
          var line = block.mark(error.line, (error.type || "Error") + ": " + (error.message || ""));
          if (line) marked.push(line);
        }
      } else if (name === "exit") {
        sentence = "The example exited with code " + data.exit_code + ".";
      }
      var parts = [name, where, ms(data.duration_ms)];
      if (typeof data.gil_wait_ms === "number") parts.push("GIL wait " + ms(data.gil_wait_ms));
      finished(name, parts.filter(Boolean).join(" \u00b7 "), sentence);
    }

    async function refused(mine, response) {
      var message = "";
      try { message = (await response.json()).error || ""; } catch (e) { /* not JSON */ }
      if (run !== mine) return;
      var code = response.status;
      if (code === 404) {
        var reload = button("run-reload", "Reload page");
        reload.addEventListener("click", function () { window.location.reload(); });
        status.hidden = true;
        finished("gone", "out of date", "This page is out of date: the example has changed on the server.", reload);
      } else if (code === 503 || code === 429) {
        var wait = parseInt(response.headers.get("Retry-After"), 10);
        fallback("it is busy" + (wait >= 0 ? ", try again in " + wait + " s" : ""));
      } else if (code >= 500) {
        fallback(message || "HTTP " + code);
      } else {
        finished("refused", "not run", "The server refused to run this example: " + (message || "HTTP " + code) + ".");
      }
    }

    function copy() {
      var text = code.textContent;
      function said(words) {
        copyButton.textContent = words;
        clearTimeout(copyButton.timer);
        copyButton.timer = setTimeout(function () { copyButton.textContent = "Copy"; }, 2000);
      }
      function bySelection() {
        var selection = window.getSelection();
        selection.selectAllChildren(code);
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (e) { /* unsupported */ }
        if (copied) selection.removeAllRanges();
        said(copied ? "Copied" : MAC ? "Press \u2318C" : "Press Ctrl+C");
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { said("Copied"); }, bySelection);
      } else {
        bySelection();
      }
    }

    runButton.addEventListener("click", function () {
      if (run) stop(); else start();
    });
    copyButton.addEventListener("click", copy);
    snippet.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
        event.preventDefault();
        start();
      }
    });
  }

  if (!window.fetch || !window.AbortController || !window.TextDecoder) return;
  Array.prototype.forEach.call(document.querySelectorAll(".snippet[data-snippet-id]"), setUp);
})();
