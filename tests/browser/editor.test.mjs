// Edit and Run in a real browser: the Edit button only where run.edit allows
// it, the editor bundle loaded only on the first Edit, the modified mark and
// Reset, an edit that survives a reload, Share links, running the edited code
// (Ctrl+Enter) with its output and its error line in the editor, and how
// crashed and refused runs of edited code are shown.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyFixture, launchBrowser, repo, startServer } from "./harness.mjs";

const binary = process.env.RUNDOCS_BIN ?? join(repo, "target/debug/rundocs");

let server; // run.edit = "open"
let chrome;
let content;

/** Starts rundocs on `content` with the environment `env` added. */
async function serveWith(env, args = []) {
  Object.assign(process.env, env);
  try {
    return await startServer(["serve", "--content", content, ...args]);
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
  }
}

before(async () => {
  content = copyFixture("browser-run");
  server = await serveWith({ RUNDOCS_RUN__EDIT: "open" });
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
  rmSync(content, { recursive: true, force: true });
});

/**
 * A fresh page at `path` (of `base`, default the shared server). `page.editorLoads`
 * lists every request for the editor bundle, `page.violations()` the
 * Content-Security-Policy violations so far.
 */
async function open(path, options = {}, base = server.base) {
  const context = await chrome.browser.newContext({ viewport: { width: 1100, height: 800 }, ...options });
  await context.addInitScript(() => {
    window.violations = [];
    document.addEventListener("securitypolicyviolation", (event) =>
      window.violations.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  const page = await context.newPage();
  page.editorLoads = [];
  page.on("request", (request) => {
    if (/\/static\/editor\.([0-9a-f]+\.)?js$/.test(new URL(request.url()).pathname)) page.editorLoads.push(request.url());
  });
  page.violations = () => page.evaluate(() => window.violations);
  await page.goto(`${base}${path}`);
  return { page, context };
}

/** The runnable block whose authored code contains `text`. */
const block = (page, text) => page.locator(".snippet", { has: page.locator("pre.code", { hasText: text }) });

/** The block's editor (its CodeMirror content, inside the editor's shadow root). */
const editorOf = (snippet) => snippet.getByRole("textbox", { name: /Python code of this example/ });

/** The editor's text, line by line as CodeMirror shows it. */
async function editorText(snippet) {
  const lines = await editorOf(snippet).locator(".cm-line").allTextContents();
  return lines.join("\n");
}

/** Clicks Edit and waits for the editor. */
async function edit(snippet) {
  await snippet.getByRole("button", { name: "Edit" }).click();
  await editorOf(snippet).waitFor();
}

/** Replaces the editor's text with `lines`, typed (each line flush left). */
async function type(page, snippet, lines) {
  await editorOf(snippet).click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  for (const [i, line] of lines.entries()) {
    if (i) {
      await page.keyboard.press("Enter");
      await page.keyboard.press("Shift+Tab"); // no automatic indent
    }
    await page.keyboard.type(line);
  }
  assert.equal(await editorText(snippet), lines.join("\n"));
}

/** Waits until the block's run ends with `status`; returns the status line's text. */
async function ended(snippet, status, timeout = 20_000) {
  const line = snippet.locator(`.run-status[data-status="${status}"]`);
  await line.waitFor({ timeout });
  return (await line.textContent()).trim();
}

/** Answers POST /api/run (edited code) on `page` with `answer` instead of the server. */
async function standIn(page, answer) {
  const sent = [];
  await page.unroute("**/api/run");
  await page.route("**/api/run", (route) => {
    sent.push(route.request().postDataJSON());
    return route.fulfill(answer);
  });
  return sent;
}

/** An SSE body of `events` ([name, data] pairs). */
const stream = (...events) => events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join("");

test("with run.edit off there is no Edit and no editor", async () => {
  const plain = await serveWith({});
  try {
    const { page, context } = await open("/run", {}, plain.base);
    await block(page, "range(1, 5)").getByRole("button", { name: "Run" }).waitFor();
    assert.equal(await page.getAttribute("body", "data-edit"), null);
    assert.equal(await page.getAttribute("body", "data-editor"), null);
    assert.equal(await page.getByRole("button", { name: "Edit" }).count(), 0);
    const session = await (await context.request.get(`${plain.base}/api/session`)).json();
    assert.equal(session.can_edit, false);
    const snippets = await (await context.request.get(`${plain.base}/api/snippets?page=run`)).json();
    assert.ok(snippets.every((s) => s.editable === false), "no block is editable");
    assert.deepEqual(page.editorLoads, []);
    await context.close();
  } finally {
    await plain.close();
  }
});

test("Edit is on every runnable block, and the editor loads only on the first Edit", async () => {
  const { page, context } = await open("/run");
  assert.equal(await page.getAttribute("body", "data-edit"), "open");
  const runs = page.locator(".snippet").getByRole("button", { name: "Run" });
  const edits = page.locator(".snippet").getByRole("button", { name: "Edit" });
  await edits.first().waitFor();
  assert.equal(await edits.count(), await runs.count());
  const snippets = await (await context.request.get(`${server.base}/api/snippets?page=run`)).json();
  assert.ok(snippets.length > 0 && snippets.every((s) => s.editable === s.runnable), "editable follows runnable");
  await page.waitForLoadState("networkidle");
  assert.deepEqual(page.editorLoads, [], "no request for the editor before Edit");

  const snippet = block(page, "range(1, 5)");
  await edit(snippet);
  assert.equal(page.editorLoads.length, 1, "one request for the editor");
  assert.match(page.editorLoads[0], /\/static\/editor\.[0-9a-f]+\.js$/, "the hashed, cacheable name");
  assert.ok(await editorOf(snippet).evaluate((content) => content.matches(":focus")), "the editor has the focus");
  assert.equal(await snippet.locator("pre.code").isVisible(), false, "the editor takes the code's place");
  assert.equal(await snippet.getByRole("button", { name: "Edit" }).isVisible(), false);
  assert.equal(
    await editorText(snippet),
    'import time\nfor n in range(1, 5):\n    print(f"line {n}", flush=True)\n    time.sleep(0.3)',
  );
  assert.equal(await snippet.locator(".edit-modified").isVisible(), false, "not modified yet");
  assert.equal(await snippet.getByRole("button", { name: "Reset" }).isDisabled(), true);

  // Highlighted in the page's colours: `import` as the page's keywords, `range` as its functions.
  const colour = (locator) => locator.evaluate((node) => getComputedStyle(node).color);
  const line = editorOf(snippet).locator(".cm-line");
  const served = block(page, "while True").locator("pre.code");
  assert.equal(
    await colour(line.first().locator("span", { hasText: /^import$/ })),
    await colour(served.locator(".hl-k", { hasText: "import" })),
  );
  assert.equal(
    await colour(line.nth(1).locator("span", { hasText: /^range$/ })),
    await colour(block(page, "range(1, 5)").locator(".hl-f", { hasText: "range" })),
  );

  // A second block's Edit uses the editor already loaded.
  await edit(block(page, "denominator = 0"));
  assert.equal(page.editorLoads.length, 1);
  assert.deepEqual(await page.violations(), [], "nothing breaks the Content-Security-Policy");
  await context.close();
});

test("the keyboard reaches Edit and the editor, and leaves it with Escape then Tab", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "file=sys.stderr");
  await snippet.getByRole("button", { name: "Edit" }).waitFor();
  await snippet.getByRole("button", { name: "Run" }).focus();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Copy");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Edit");
  await page.keyboard.press("Enter");
  await editorOf(snippet).waitFor();
  await page.keyboard.press("Control+End");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab"); // indents: Tab is the editor's while it has the focus
  await page.keyboard.type("pass");
  assert.match(await editorText(snippet), /\n {4}pass$/);
  assert.ok(await snippet.locator(".edit-modified").isVisible());
  await page.keyboard.press("Escape");
  await page.keyboard.press("Tab");
  assert.equal(await editorOf(snippet).evaluate((content) => content.matches(":focus")), false, "the focus moved on");
  assert.equal(await snippet.getByRole("button", { name: "Reset" }).evaluate((b) => b.tagName), "BUTTON");
  await context.close();
});

test("the modified mark, Reset, and an edit that survives a reload", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "quiet = 6 * 7");
  await edit(snippet);
  const modified = snippet.locator(".edit-modified");
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\nprint(quiet)");
  assert.equal(await editorText(snippet), "quiet = 6 * 7\nprint(quiet)");
  assert.ok(await modified.isVisible());
  assert.equal(await modified.textContent(), "Modified");
  // Typing the change away again is not a change.
  await page.keyboard.press("Shift+Home");
  await page.keyboard.press("Backspace");
  await page.keyboard.press("Backspace");
  assert.equal(await modified.isVisible(), false);
  await page.keyboard.type("\nprint(quiet)");
  assert.ok(await modified.isVisible());

  await page.reload();
  const again = block(page, "quiet = 6 * 7");
  await editorOf(again).waitFor();
  assert.equal(await editorText(again), "quiet = 6 * 7\nprint(quiet)", "the edit is back after a reload");
  assert.ok(await again.locator(".edit-modified").isVisible());
  assert.equal(await page.getByRole("textbox", { name: /Python code of this example/ }).count(), 1, "only that block");

  await again.getByRole("button", { name: "Reset" }).click();
  assert.equal(await editorText(again), "quiet = 6 * 7");
  assert.equal(await again.locator(".edit-modified").isVisible(), false);
  assert.equal(await again.getByRole("button", { name: "Reset" }).isDisabled(), true);
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("rundocs-edit:")));
  assert.deepEqual(stored, [], "Reset forgets the edit");

  page.editorLoads.length = 0;
  await page.reload();
  const read = block(page, "quiet = 6 * 7");
  await read.getByRole("button", { name: "Edit" }).waitFor();
  await page.waitForLoadState("networkidle");
  assert.ok(await read.locator("pre.code").isVisible(), "the block is as written again");
  assert.equal(await page.locator(".code-editor").count(), 0);
  assert.deepEqual(page.editorLoads, [], "and the editor is not loaded");
  await context.close();
});

test("Share puts the code in a link that opens it in the editor", async () => {
  const { page, context } = await open("/run", { permissions: ["clipboard-read", "clipboard-write"] });
  const snippet = block(page, "hello from the recorded run");
  const id = await snippet.getAttribute("data-snippet-id");
  await edit(snippet);
  await type(page, snippet, ['print("café ☃ from a link")', "print(1 + 1)"]);
  await snippet.getByRole("button", { name: "Share" }).click();
  await snippet.getByRole("button", { name: "Link copied" }).waitFor();
  const link = page.url();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link, "the link is on the clipboard");
  const fragment = new URL(link).hash;
  assert.match(fragment, new RegExp(`^#edit-${id}=[A-Za-z0-9_-]+$`));
  const code = Buffer.from(fragment.split("=")[1], "base64url").toString("utf8");
  assert.equal(code, 'print("café ☃ from a link")\nprint(1 + 1)', "base64url of the UTF-8 code");

  // Another reader (nothing stored) opens the link.
  const other = await open(new URL(link).pathname + fragment);
  const shared = block(other.page, "hello from the recorded run");
  await editorOf(shared).waitFor();
  assert.equal(await editorText(shared), code);
  assert.ok(await shared.locator(".edit-modified").isVisible());
  assert.equal(await other.page.locator(".code-editor").count(), 1, "only the shared block is in an editor");
  // Reset takes the code out of the address bar too, so a reload shows the example as written.
  await shared.getByRole("button", { name: "Reset" }).click();
  assert.equal(new URL(other.page.url()).hash, "");
  await other.context.close();
  // A link to a block that no longer exists (its code changed) opens nothing.
  const stale = await open(`/run#edit-000000000000=${Buffer.from("print(1)").toString("base64url")}`);
  await stale.page.locator(".snippet").getByRole("button", { name: "Edit" }).first().waitFor();
  await stale.page.waitForLoadState("networkidle");
  assert.equal(await stale.page.locator(".code-editor").count(), 0);
  await stale.context.close();
  await context.close();
});

test("Ctrl+Enter runs the edited code and streams its output", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "range(1, 5)");
  const id = await snippet.getAttribute("data-snippet-id");
  await edit(snippet);
  await type(page, snippet, ["import time", 'print("edited", 6 * 7, flush=True)', "time.sleep(0.5)", 'print("done")']);
  const request = page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname.startsWith("/_rundocs/api/run"));
  await page.keyboard.press("Control+Enter");
  const sent = await request;
  assert.equal(new URL(sent.url()).pathname, "/_rundocs/api/run");
  assert.deepEqual(sent.postDataJSON(), {
    code: 'import time\nprint("edited", 6 * 7, flush=True)\ntime.sleep(0.5)\nprint("done")',
    snippet: id,
  });
  await snippet.locator(".run-text", { hasText: "edited 42" }).waitFor({ timeout: 20_000 });
  assert.ok(await snippet.getByRole("button", { name: "Stop" }).isVisible(), "Run becomes Stop while it runs");
  assert.match(await ended(snippet, "ok"), /^ok · /);
  assert.equal(await snippet.locator(".run-text").textContent(), "edited 42\ndone\n");
  assert.equal(await snippet.locator(".run-label").textContent(), "Output of the edited code");
  assert.equal(await page.locator(".run-output").count(), 1, "only that block ran");

  // Unchanged code runs as the authored example, by id.
  await snippet.getByRole("button", { name: "Reset" }).click();
  const authored = page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname.startsWith("/_rundocs/api/run"));
  await snippet.getByRole("button", { name: "Run" }).click();
  assert.equal(new URL((await authored).url()).pathname, `/_rundocs/api/run/${id}`);
  await ended(snippet, "ok");
  assert.equal(await snippet.locator(".run-label").textContent(), "Output");
  assert.deepEqual(await page.violations(), []);
  await context.close();
});

test("an error in the edited code marks its line in the editor", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "denominator = 0");
  await edit(snippet);
  await type(page, snippet, ["a = 1", "b = 0", "c = 2", "print(a / b)"]);
  await page.keyboard.press("Control+Enter");
  assert.match(await ended(snippet, "error"), /^error · line 4 · /, "the edited code's line, not the authored one's");
  assert.match(await snippet.locator(".run-traceback").textContent(), /ZeroDivisionError: division by zero\n$/);
  const marked = editorOf(snippet).locator(".cm-error-line");
  assert.equal(await marked.count(), 1);
  assert.equal(await marked.textContent(), "print(a / b)");
  assert.match(await marked.getAttribute("title"), /^ZeroDivisionError: division by zero/);
  const background = await marked.evaluate((line) => getComputedStyle(line).backgroundColor);
  assert.notEqual(background, "rgba(0, 0, 0, 0)", "the line is visibly marked");

  // Fixed and run again: the mark goes.
  await page.keyboard.press("Control+End");
  await page.keyboard.press("Shift+Home");
  await page.keyboard.type("print(a / c)");
  await page.keyboard.press("Control+Enter");
  await ended(snippet, "ok");
  assert.equal(await snippet.locator(".run-text").textContent(), "0.5\n");
  assert.equal(await marked.count(), 0);
  await context.close();
});

test("edited code over 64 KiB is refused with a sentence", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "quiet = 6 * 7");
  await edit(snippet);
  await type(page, snippet, ["x = 1"]);
  // Too long to type: put it in through the editor's own change path (a paste).
  await page.evaluate((text) => {
    const data = new DataTransfer();
    data.setData("text/plain", text);
    const content = document.querySelector(".code-editor").shadowRoot.querySelector(".cm-content");
    content.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, "\n# " + "x".repeat(70 * 1024));
  await page.keyboard.press("Control+Enter");
  await ended(snippet, "refused");
  assert.match(await snippet.locator(".run-note").textContent(), /64 KiB|too (long|large)/i);
  assert.equal(await snippet.locator(".recorded-output").count(), 0);
  await context.close();
});

test("a crashed run of edited code says how its process died", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "hello from the recorded run");
  await edit(snippet);
  await type(page, snippet, ["import ctypes", 'print("about to crash", flush=True)', "ctypes.string_at(0)"]);
  await page.keyboard.press("Control+Enter");
  assert.match(await ended(snippet, "crashed"), /^crashed · [\d.]+ (ms|s)/);
  assert.match(await snippet.locator(".run-note").textContent(), /^The example's process was killed by SIGSEGV/);
  assert.equal(await snippet.locator(".run-text").textContent(), "about to crash\n", "the output before the crash stays");
  const colour = await snippet.locator(".run-status").evaluate((status) => getComputedStyle(status).color);
  const danger = await page.evaluate(() => {
    const probe = document.body.appendChild(document.createElement("span"));
    probe.style.color = "var(--danger)";
    const value = getComputedStyle(probe).color;
    probe.remove();
    return value;
  });
  assert.equal(colour, danger, "the status is in the danger colour");
  assert.ok(await snippet.getByRole("button", { name: "Run" }).isVisible());
  await context.close();
});

test("refusals of edited code are a sentence in the output area", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "hello from the recorded run");
  await edit(snippet);
  await type(page, snippet, ['print("mine")']);
  const run = () => editorOf(snippet).press("Control+Enter");

  // The server's reasons, as it words them, and the page's own where an answer gives none.
  const refusals = [
    [403, { error: "only signed-in users may run edited code here; sign in first" }, {},
      "The edited code was not run: only signed-in users may run edited code here; sign in first."],
    [413, { error: "the edited code is over 64 KiB; shorten it" }, {},
      "The edited code was not run: the edited code is over 64 KiB; shorten it."],
    [415, { error: "send the edited code as JSON" }, {}, "The edited code was not run: send the edited code as JSON."],
    [429, { error: "your edited runs used their 600 CPU seconds for this hour; try again in 12 min" }, { "Retry-After": "700" },
      "The edited code was not run: your edited runs used their 600 CPU seconds for this hour; try again in 12 min."],
    [429, null, { "Retry-After": "42" }, "The edited code was not run: too many runs for now; try again in 42 s."],
    [413, null, {}, "The edited code was not run: it is over 64 KiB."],
  ];
  for (const [status, json, headers, sentence] of refusals) {
    const sent = await standIn(page, {
      status,
      headers,
      contentType: json ? "application/json" : "text/plain",
      body: json ? JSON.stringify(json) : "too large",
    });
    await run();
    assert.equal(await ended(snippet, "refused"), "not run", `HTTP ${status}`);
    assert.equal(await snippet.locator(".run-note").textContent(), sentence, `HTTP ${status}`);
    assert.equal(await snippet.locator(".run-text").isVisible(), false, "no output, and no recorded output for edited code");
    assert.equal(await snippet.locator(".run-label").textContent(), "Output of the edited code");
    assert.ok(await snippet.getByRole("button", { name: "Run" }).isVisible());
    assert.deepEqual(sent, [{ code: 'print("mine")', snippet: await snippet.getAttribute("data-snippet-id") }]);
  }
  // The block changed on the server since the page was loaded: a way to reload.
  await standIn(page, {
    status: 404,
    contentType: "application/json",
    body: JSON.stringify({ error: "no example has the id 0; the page may be older than its content, reload it" }),
  });
  await run();
  await ended(snippet, "refused");
  assert.match(await snippet.locator(".run-note").textContent(), /older than its content/);
  assert.ok(await snippet.getByRole("button", { name: "Reload page" }).isVisible());
  await context.close();
});

test("with run.edit restricted only signed-in runners get Edit", async (t) => {
  const hash = execFileSync(binary, ["hash-password"], { input: "secret" }).toString().trim();
  const dir = mkdtempSync(join(tmpdir(), "rundocs-browser-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, "rundocs.toml");
  writeFileSync(config, `[run]\nedit = "restricted"\n\n[access]\nusers = { alice = "${hash}" }\n`);
  const restricted = await serveWith({}, ["--config", config]);
  t.after(() => restricted.close());

  const stranger = await open("/run", {}, restricted.base);
  assert.equal(await stranger.page.getAttribute("body", "data-edit"), "restricted");
  await stranger.page.locator(".snippet").getByRole("button", { name: "Run" }).first().waitFor();
  await stranger.page.waitForLoadState("networkidle"); // the page has had the session's answer
  const session = await (await stranger.context.request.get(`${restricted.base}/api/session`)).json();
  assert.equal(session.can_run, true);
  assert.equal(session.can_edit, false);
  assert.equal(await stranger.page.getByRole("button", { name: "Edit" }).count(), 0, "a stranger may run, not edit");
  await stranger.context.close();

  const authorization = `Basic ${Buffer.from("alice:secret").toString("base64")}`;
  const alice = await open("/run", { extraHTTPHeaders: { Authorization: authorization } }, restricted.base);
  const aliceSession = await (await alice.context.request.get(`${restricted.base}/api/session`)).json();
  assert.equal(aliceSession.user, "alice");
  assert.equal(aliceSession.can_edit, true);
  const edits = alice.page.locator(".snippet").getByRole("button", { name: "Edit" });
  await edits.first().waitFor();
  assert.equal(await edits.count(), await alice.page.locator(".snippet").getByRole("button", { name: "Run" }).count());
  const snippets = await (await alice.context.request.get(`${restricted.base}/api/snippets?page=run`)).json();
  assert.ok(snippets.every((s) => s.editable === s.runnable));
  await alice.context.close();
});
