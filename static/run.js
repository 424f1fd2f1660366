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
  var locks = []; // functions turning a block's Run into "Sign in to run"
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

  function setUp(snippet) {
    var pre = snippet.querySelector("pre.code"), code = pre && pre.querySelector("code");
    var id = snippet.getAttribute("data-snippet-id");
    var recorded = snippet.querySelector(".recorded-output");
    var lines, marked = [], run, box, label, out, note, status, state, clock;
    if (!code || !id) return;
    marks[id] = function (number, title) {
      var line = (lines = lines || wrapLines(code))[number - 1];
      if (line) { line.classList.add("code-line-error"); line.title = title; }
      return line;
    };

    var bar = snippet.insertBefore(document.createElement("div"), pre);
    bar.className = "run-bar";
    var runButton = add(bar, "button", "run-button", "Run");
    runButton.setAttribute("aria-keyshortcuts", MAC ? "Meta+Enter" : "Control+Enter");
    var copyButton = add(bar, "button", "copy-button", "Copy");
    copyButton.setAttribute("aria-live", "polite");
    add(bar, "span", "run-hint", (MAC ? "\u2318 Enter" : "Ctrl+Enter") + " runs").setAttribute("aria-hidden", "true");
    pre.tabIndex = 0;

    function append(text, kind) {
      if (!text) return;
      var atEnd = out.scrollHeight - out.scrollTop - out.clientHeight < 8;
      var last = out.lastChild;
      (last && last.className === "run-" + kind ? last : add(out, "span", "run-" + kind)).append(text);
      out.hidden = false;
      if (atEnd) out.scrollTop = out.scrollHeight;
    }

    function setStatus(name, text) {
      status.setAttribute("data-status", name);
      box.setAttribute("data-status", name);
      state.textContent = text;
    }

    function start() {
      if (run) return;
      if (!box) {
        box = snippet.insertBefore(document.createElement("div"), recorded);
        box.setAttribute("aria-live", "polite");
        label = add(box, "p", "run-label");
        out = add(box, "pre", "run-text");
        note = add(box, "p", "run-note");
        status = add(box, "p", "run-status");
        state = add(status, "span", "run-state");
        clock = add(status, "span", "run-clock");
        clock.setAttribute("aria-hidden", "true");
      }
      marked.forEach(function (line) { line.classList.remove("code-line-error"); line.removeAttribute("title"); });
      marked = [];
      if (recorded) recorded.hidden = true;
      box.className = "run-output";
      label.textContent = "Output";
      out.textContent = "";
      out.hidden = note.hidden = true;
      status.hidden = false;
      setStatus("running", "Running\u2026");
      var mine = run = { abort: new AbortController(), t0: performance.now() };
      mine.heard = mine.t0;
      clock.textContent = " 0.0 s";
      mine.timer = setInterval(function () {
        var now = performance.now();
        clock.textContent = " " + ((now - mine.t0) / 1000).toFixed(1) + " s";
        if (now - mine.heard > SILENCE_MS) stop("it stopped answering");
      }, 100);
      runButton.textContent = "Stop";
      runButton.classList.add("is-running");
      execute(mine).catch(function (error) {
        if (run !== mine) return;
        if (mine.reason) fallback(mine.reason);
        else if (mine.abort.signal.aborted) finish("cancelled", "cancelled \u00b7 " + ms(performance.now() - mine.t0), NOTES.cancelled);
        else fallback(mine.response || !(error instanceof TypeError) ? "the connection was lost before the run finished" : "it could not be reached");
      });
    }

    function stop(reason) {
      run.reason = reason;
      run.abort.abort();
    }

    function finish(name, text, sentence, action) {
      clearInterval(run.timer);
      run = null;
      runButton.textContent = "Run";
      runButton.classList.remove("is-running");
      clock.textContent = "";
      setStatus(name, text);
      note.textContent = sentence || "";
      if (action) note.append(" ", action);
      note.hidden = !sentence;
      if (out.hidden && name !== "gone" && name !== "unavailable") append("No output", "empty");
    }

    // The server could not run it: the recorded output, if there is one.
    function fallback(reason) {
      var text = recorded && recorded.querySelector("pre");
      if (!text) return finish("unavailable", "not run", "This example could not be run: " + reason + ".");
      out.textContent = text.textContent;
      out.hidden = false;
      box.className = "run-output run-fallback";
      label.textContent = "Recorded output";
      add(label, "span", "run-why", " (the server could not run this example: " + reason + ")");
      finish("unavailable", "not run");
    }

    async function execute(mine) {
      var response = mine.response = await fetch(BASE + "/api/run/" + encodeURIComponent(id), {
        method: "POST", headers: { Accept: "text/event-stream" }, cache: "no-store", signal: mine.abort.signal
      });
      if (!response.ok) return refused(mine, response);
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      for (;;) {
        var chunk = await reader.read();
        mine.heard = performance.now();
        var events = (buffer + decoder.decode(chunk.value, { stream: !chunk.done })).replace(/\r\n/g, "\n").split("\n\n");
        buffer = events.pop();
        for (var i = 0; i < events.length; i++) {
          var event = parseEvent(events[i]);
          if (event && handle(event.name, event.data)) return reader.cancel();
        }
        if (chunk.done) throw new Error("the stream ended without an end event");
      }
    }

    // Applies one event; true after `end`.
    function handle(name, data) {
      if (name === "queued") setStatus("queued", "Queued, position " + data.position);
      if (name === "start") setStatus("running", "Running\u2026");
      if (name === "stdout" || name === "stderr") append(data.text, name);
      if (name === "end") ended(data);
      return name === "end";
    }

    function ended(data) {
      var name = String(data.status), error = data.error, where = "";
      var sentence = data.message || NOTES[name];
      if (name === "error" && error) {
        var trace = error.traceback || error.type + ": " + error.message + "\n";
        var shown = out.hidden ? "" : out.textContent;
        if (shown.slice(-trace.length) !== trace) append((/[^\n]$/.test(shown) ? "\n" : "") + trace, "traceback");
        var mark = marks[error.snippet_id || id];
        var line = error.line > 0 && mark && mark(error.line, error.type + ": " + error.message);
        if (line) {
          marked.push(line);
          where = "line " + error.line + (mark === marks[id] ? "" : " of a required block");
        }
      }
      if (name === "exit") sentence = "The example exited with code " + data.exit_code + ".";
      var parts = [name, where, ms(data.duration_ms)];
      if (typeof data.gil_wait_ms === "number") parts.push("GIL wait " + ms(data.gil_wait_ms));
      finish(name, parts.filter(Boolean).join(" \u00b7 "), sentence);
    }

    async function refused(mine, response) {
      var code = response.status, wait = parseInt(response.headers.get("Retry-After"), 10), message;
      try { message = (await response.json()).error; } catch (e) { /* not JSON */ }
      if (run !== mine) return;
      if (code === 404) {
        var reload = document.createElement("button");
        reload.className = "run-reload";
        reload.textContent = "Reload page";
        reload.addEventListener("click", function () { location.reload(); });
        status.hidden = true;
        finish("gone", "out of date", "This page is out of date: the example has changed on the server.", reload);
      } else if (code === 401 || code === 403) {
        fallback(code === 401 ? "running examples here needs signing in" : message || "you may not run examples here");
        if (code === 401 && loginUrl) { note.append(signInLink()); note.hidden = false; }
      } else if (code === 503 || code === 429) {
        fallback("it is busy" + (wait >= 0 ? ", try again in " + wait + " s" : ""));
      } else {
        fallback(message || "HTTP " + code);
      }
    }

    // Copy: the clipboard API, else select the code and try execCommand (plain http).
    function copy() {
      function said(words) {
        copyButton.textContent = words;
        clearTimeout(copyButton.timer);
        copyButton.timer = setTimeout(function () { copyButton.textContent = "Copy"; }, 2000);
      }
      function bySelection() {
        var selection = getSelection(), copied = false;
        selection.selectAllChildren(code);
        try { copied = document.execCommand("copy"); } catch (e) { /* unsupported */ }
        if (copied) selection.removeAllRanges();
        said(copied ? "Copied" : MAC ? "Press \u2318C" : "Press Ctrl+C");
      }
      if (navigator.clipboard) navigator.clipboard.writeText(code.textContent).then(function () { said("Copied"); }, bySelection);
      else bySelection();
    }

    locks.push(function () {
      if (loginUrl) {
        var link = signInLink();
        link.classList.add("run-button");
        bar.replaceChild(link, runButton);
      } else {
        runButton.disabled = true;
        runButton.title = "Running examples here needs signing in";
      }
      bar.querySelector(".run-hint").hidden = true;
      start = function () {};
    });
    runButton.addEventListener("click", function () { if (run) stop(); else start(); });
    copyButton.addEventListener("click", copy);
    snippet.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
        event.preventDefault();
        start();
      }
    });
  }

  if (window.fetch && window.AbortController && window.TextDecoder) {
    document.querySelectorAll(".snippet[data-snippet-id]").forEach(setUp);
    if (document.body.getAttribute("data-runs") === "restricted" && locks.length) {
      fetch(BASE + "/api/session", { cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (session) {
          if (!session || session.can_run) return;
          loginUrl = session.login_url;
          locks.forEach(function (lock) { lock(); });
        })
        .catch(function () { /* Run stays; the server still decides */ });
    }
  }
})();
