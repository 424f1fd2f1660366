// The Run button in a real browser: streamed output, Stop, tracebacks,
// stderr, the recorded-output fallback, the keyboard, Copy, and a screenshot
// of a finished run (docs/run-screenshot.png).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { copyFixture, launchBrowser, repo, startServer } from "./harness.mjs";

let server;
let chrome;
let content;

before(async () => {
  content = copyFixture("browser-run");
  server = await startServer(["serve", "--content", content]);
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
  rmSync(content, { recursive: true, force: true });
});

/** A fresh page at `path` (of `base`, default the shared server). */
async function open(path, options = {}, base = server.base) {
  const context = await chrome.browser.newContext({ viewport: { width: 1100, height: 800 }, ...options });
  const page = await context.newPage();
  await page.goto(`${base}${path}`);
  return { page, context };
}

/** The runnable block whose code contains `text`. */
const block = (page, text) => page.locator(".snippet", { has: page.locator("pre.code", { hasText: text }) });

/** Waits until the block's run ends with `status`; returns the status line's text. */
async function ended(snippet, status, timeout = 15_000) {
  const line = snippet.locator(`.run-status[data-status="${status}"]`);
  await line.waitFor({ timeout });
  return (await line.textContent()).trim();
}

const outputText = (snippet) => snippet.locator(".run-text").textContent();

test("output lines appear one by one while the example runs, then the status", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "range(1, 5)");
  // Record each distinct state of the output as the page shows it, and any CSP violation.
  await snippet.evaluate((element) => {
    window.violations = [];
    document.addEventListener("securitypolicyviolation", (event) => window.violations.push(event.violatedDirective));
    window.seen = [];
    new MutationObserver(() => {
      const text = element.querySelector(".run-text")?.textContent;
      if (text && text !== window.seen.at(-1)) window.seen.push(text);
    }).observe(element, { subtree: true, childList: true, characterData: true });
  });
  await snippet.getByRole("button", { name: "Run" }).click();
  await snippet.locator(".run-text", { hasText: "line 1" }).waitFor({ timeout: 10_000 });
  const early = await outputText(snippet);
  assert.ok(!early.includes("line 4"), `the last line is not there yet: ${JSON.stringify(early)}`);
  assert.ok(await snippet.getByRole("button", { name: "Stop" }).isVisible(), "Run becomes Stop while running");
  await snippet.locator(".run-status").filter({ hasText: /^Running… \d+\.\d s$/ }).waitFor();

  const status = await ended(snippet, "ok");
  assert.match(status, /^ok · [\d.]+ (ms|s) · GIL wait [\d.]+ ms$/);
  assert.equal(await outputText(snippet), "line 1\nline 2\nline 3\nline 4\n");
  const seen = await page.evaluate(() => window.seen);
  for (const lines of [1, 2, 3]) {
    const state = ["line 1", "line 2", "line 3", "line 4"].slice(0, lines).join("\n") + "\n";
    assert.ok(seen.includes(state), `the page showed ${lines} line(s) on their own: ${JSON.stringify(seen)}`);
  }
  assert.ok(await snippet.getByRole("button", { name: "Run" }).isVisible());
  assert.equal(await snippet.locator(".run-output").getAttribute("aria-live"), "polite");
  assert.deepEqual(await page.evaluate(() => window.violations), [], "nothing breaks the Content-Security-Policy");
  await context.close();
});

test("Stop cancels a long run, and other blocks run meanwhile", async () => {
  const { page, context } = await open("/run");
  const long = block(page, "while True");
  await long.getByRole("button", { name: "Run" }).click();
  await long.locator(".run-text", { hasText: "started" }).waitFor({ timeout: 10_000 });
  assert.match(await long.locator(".run-status").textContent(), /Running…/);

  const quick = block(page, "range(1, 5)");
  await quick.getByRole("button", { name: "Run" }).click();
  await ended(quick, "ok");
  assert.match(await long.locator(".run-status").textContent(), /Running…/, "the long run is still going");

  await long.getByRole("button", { name: "Stop" }).click();
  assert.match(await ended(long, "cancelled"), /^cancelled/);
  assert.ok(await long.getByRole("button", { name: "Run" }).isVisible(), "the Run button is back");
  assert.match(await long.locator(".run-note").textContent(), /stopped/i);
  assert.equal(await outputText(long), "started\n", "the output so far stays");
  await context.close();
});

test("a run waiting for a worker shows its place in the queue", async () => {
  process.env.RUNDOCS_RUN__WORKERS = "1";
  const single = await startServer(["serve", "--content", content]).finally(() => delete process.env.RUNDOCS_RUN__WORKERS);
  try {
    const { page, context } = await open("/run", {}, single.base);
    const long = block(page, "while True");
    const waiting = block(page, "range(1, 5)");
    await long.getByRole("button", { name: "Run" }).click();
    await long.locator(".run-text", { hasText: "started" }).waitFor({ timeout: 10_000 });
    await waiting.getByRole("button", { name: "Run" }).click();
    await waiting.locator(".run-status").filter({ hasText: /^Queued, position \d+ \d+\.\d s$/ }).waitFor({ timeout: 10_000 });
    assert.ok(await waiting.getByRole("button", { name: "Stop" }).isVisible(), "a queued run can be stopped");
    await long.getByRole("button", { name: "Stop" }).click();
    await ended(long, "cancelled");
    await ended(waiting, "ok");
    assert.equal(await outputText(waiting), "line 1\nline 2\nline 3\nline 4\n");
    await context.close();
  } finally {
    await single.close();
  }
});

test("an exception shows its traceback and marks the failing line", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "denominator = 0");
  await snippet.getByRole("button", { name: "Run" }).click();
  assert.match(await ended(snippet, "error"), /^error · line 3 · /);
  const traceback = await snippet.locator(".run-traceback").textContent();
  assert.match(traceback, /^Traceback \(most recent call last\):/);
  assert.match(traceback, /ZeroDivisionError: division by zero\n$/);

  const marked = snippet.locator(".code-line-error");
  assert.equal(await marked.count(), 1);
  assert.match(await marked.textContent(), /print\(numerator \/ denominator\)/);
  const lines = await snippet.locator(".code-line").allTextContents();
  assert.match(lines[2], /print\(numerator/, "the marked line is line 3");
  const background = await marked.evaluate((line) => getComputedStyle(line).backgroundColor);
  assert.notEqual(background, "rgba(0, 0, 0, 0)", "the line is visibly marked");
  // The code itself is unchanged by the marking.
  assert.equal(await snippet.locator("pre.code").textContent(), "numerator = 1\ndenominator = 0\nprint(numerator / denominator)\n");

  // The next run clears the mark (this one is answered by a stand-in that succeeds).
  await page.route("**/api/run/**", (route) =>
    route.fulfill({
      status: 200,
      contentType: "text/event-stream",
      body: 'event: start\ndata: {"run_id":"r","queued_ms":0}\n\nevent: end\ndata: {"status":"ok","duration_ms":1,"gil_wait_ms":0,"error":null}\n\n',
    }),
  );
  await snippet.getByRole("button", { name: "Run" }).click();
  await ended(snippet, "ok");
  assert.equal(await marked.count(), 0);
  assert.equal(await snippet.locator(".run-traceback").count(), 0);
  await context.close();
});

test("an exception in a required block marks the line in that block", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "ratio(1, 0)");
  await snippet.getByRole("button", { name: "Run" }).click();
  assert.match(await ended(snippet, "error"), /line 2 of a required block/);
  const helpers = block(page, "def ratio");
  assert.match(await helpers.locator(".code-line-error").textContent(), /return a \/ b/);
  assert.equal(await snippet.locator(".code-line-error").count(), 0);
  await context.close();
});

test("stderr is shown apart from stdout", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "file=sys.stderr");
  await snippet.getByRole("button", { name: "Run" }).click();
  await ended(snippet, "ok");
  assert.equal(await snippet.locator(".run-stdout").textContent(), "to stdout\n");
  assert.equal(await snippet.locator(".run-stderr").textContent(), "to stderr\n");
  const colour = (selector) => snippet.locator(selector).evaluate((span) => getComputedStyle(span).color);
  assert.notEqual(await colour(".run-stderr"), await colour(".run-stdout"));
  await context.close();
});

test("output that looks like HTML is shown as text", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "window.injected");
  await snippet.getByRole("button", { name: "Run" }).click();
  await ended(snippet, "ok");
  assert.equal(await outputText(snippet), "<script>window.injected = 1</script><b>not bold</b> &amp;\n");
  assert.equal(await snippet.locator(".run-output b, .run-output script").count(), 0);
  assert.equal(await page.evaluate(() => window.injected), undefined);
  await context.close();
});

test("exit codes, time limits and silent runs are explained", async () => {
  const { page, context } = await open("/run");
  const exit = block(page, "SystemExit(3)");
  const slow = block(page, "time.sleep(5)");
  const quiet = block(page, "quiet = 6 * 7");
  await exit.getByRole("button", { name: "Run" }).click();
  await slow.getByRole("button", { name: "Run" }).click();
  await quiet.getByRole("button", { name: "Run" }).click();
  await ended(exit, "exit");
  assert.match(await exit.locator(".run-note").textContent(), /exited with code 3/);
  await ended(slow, "timeout");
  assert.match(await slow.locator(".run-note").textContent(), /limit of 1 s/);
  await ended(quiet, "ok");
  assert.equal(await outputText(quiet), "No output");
  await context.close();
});

test("when the server cannot run an example, the recorded output is shown", async () => {
  // A server of its own, stopped after the page has loaded.
  const doomed = await startServer(["serve", "--content", content]);
  const { page, context } = await open("/run", {}, doomed.base);
  await doomed.close();
  const snippet = block(page, "hello from the recorded run");
  await snippet.getByRole("button", { name: "Run" }).click();
  await ended(snippet, "unavailable");
  const label = await snippet.locator(".run-label").textContent();
  assert.match(label, /^Recorded output \(the server could not run this example: it could not be reached\)$/);
  assert.equal(await outputText(snippet), "hello from the recorded run\n");
  assert.equal(await snippet.locator(".recorded-output").isVisible(), false, "shown once, in the output");

  const unrecorded = block(page, "never recorded");
  await unrecorded.getByRole("button", { name: "Run" }).click();
  await ended(unrecorded, "unavailable");
  assert.equal(
    await unrecorded.locator(".run-note").textContent(),
    "This example could not be run: it could not be reached.",
  );
  await context.close();
});

test("a busy server (503), a broken stream and a stale page (404)", async () => {
  const { page, context } = await open("/run");
  let answer;
  await page.route("**/api/run/**", (route) => route.fulfill(answer));
  const snippet = block(page, "hello from the recorded run");
  const run = () => snippet.getByRole("button", { name: "Run" }).click();

  answer = {
    status: 503,
    headers: { "Retry-After": "2" },
    contentType: "application/json",
    body: JSON.stringify({ error: "all 64 places in the run queue are taken; try again in a moment" }),
  };
  await run();
  await ended(snippet, "unavailable");
  assert.match(await snippet.locator(".run-label").textContent(), /^Recorded output \(.*it is busy, try again in 2 s\)$/);
  assert.equal(await outputText(snippet), "hello from the recorded run\n");

  answer = {
    status: 200,
    contentType: "text/event-stream",
    body: 'event: start\ndata: {"run_id":"r","queued_ms":0}\n\nevent: stdout\ndata: {"text":"partial\\n"}\n\n',
  };
  await run();
  await ended(snippet, "unavailable");
  assert.match(await snippet.locator(".run-label").textContent(), /connection was lost/);
  assert.equal(await outputText(snippet), "hello from the recorded run\n");

  answer = { status: 404, contentType: "application/json", body: JSON.stringify({ error: "no example has the id" }) };
  await run();
  await snippet.locator('.run-output[data-status="gone"]').waitFor();
  assert.match(await snippet.locator(".run-note").textContent(), /out of date/);
  const reload = snippet.getByRole("button", { name: "Reload page" });
  assert.ok(await reload.isVisible());
  await Promise.all([page.waitForEvent("load"), reload.click()]);
  assert.equal(await page.locator(".run-output").count(), 0, "the page was reloaded");
  await context.close();
});

test("the queue position, and events split anywhere across chunks", async () => {
  // A stand-in for fetch whose body the test writes byte by byte.
  const context = await chrome.browser.newContext();
  await context.addInitScript(() => {
    const realFetch = window.fetch;
    window.fetch = (url, init) => {
      if (!String(url).includes("/api/run/")) return realFetch(url, init);
      const body = new ReadableStream({
        start(controller) {
          window.send = (text, at) => {
            const bytes = new TextEncoder().encode(text);
            controller.enqueue(bytes.slice(0, at));
            controller.enqueue(bytes.slice(at));
          };
        },
      });
      return Promise.resolve(new Response(body, { headers: { "Content-Type": "text/event-stream" } }));
    };
  });
  const page = await context.newPage();
  await page.goto(`${server.base}/run`);
  const snippet = block(page, "never recorded");
  const status = snippet.locator(".run-status");
  await snippet.getByRole("button", { name: "Run" }).click();
  await page.waitForFunction(() => window.send);
  await page.evaluate(() => window.send('event: queued\ndata: {"position": 3}\n\n: keep-alive\n\n', 20));
  await status.filter({ hasText: /^Queued, position 3 \d+\.\d s$/ }).waitFor();
  await page.evaluate(() => window.send('event: start\r\ndata: {"run_id": "r", "queued_ms": 9}\r\n\r\n', 7));
  await status.filter({ hasText: /^Running…/ }).waitFor();
  // "é" is two bytes in UTF-8: split between them.
  const text = 'event: stdout\ndata: {"text": "café ☃\\n"}\n\n';
  await page.evaluate((t) => window.send(t, new TextEncoder().encode(t.slice(0, t.indexOf("é"))).length + 1), text);
  await page.evaluate(() =>
    window.send('event: end\ndata: {"status": "ok", "duration_ms": 1.7, "gil_wait_ms": 0.1, "error": null}\n\n', 40),
  );
  assert.equal(await ended(snippet, "ok"), "ok · 1.7 ms · GIL wait 0.1 ms");
  assert.equal(await outputText(snippet), "café ☃\n");
  await context.close();
});

test("Ctrl+Enter runs the focused block", async () => {
  const { page, context } = await open("/run");
  const snippet = block(page, "file=sys.stderr");
  const code = snippet.locator("pre.code");
  assert.equal(await code.getAttribute("tabindex"), "0");
  await code.focus();
  await page.keyboard.press("Control+Enter");
  await ended(snippet, "ok");
  assert.match(await outputText(snippet), /to stdout/);
  assert.equal(await page.locator(".run-output").count(), 1, "only the focused block ran");
  // The buttons are reachable from the keyboard: Tab order is Run, Copy, code.
  await page.locator("h2#lines-one-by-one a").focus();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Run");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Copy");
  await context.close();
});

test("Copy puts the code on the clipboard, with or without the clipboard API", async () => {
  const { page, context } = await open("/run", { permissions: ["clipboard-read", "clipboard-write"] });
  const snippet = block(page, "denominator = 0");
  const code = "numerator = 1\ndenominator = 0\nprint(numerator / denominator)\n";
  await snippet.getByRole("button", { name: "Copy" }).click();
  await snippet.getByRole("button", { name: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), code);
  await snippet.getByRole("button", { name: "Copy" }).waitFor({ timeout: 5_000 });

  // Without navigator.clipboard (plain http on a LAN address) the code is selected and copied.
  await page.evaluate(() => Object.defineProperty(Navigator.prototype, "clipboard", { get: () => undefined }));
  const other = block(page, "file=sys.stderr");
  await other.getByRole("button", { name: "Copy" }).click();
  await other.locator(".copy-button", { hasText: /Copied|Press Ctrl\+C/ }).waitFor();
  await context.close();
});

test("without JavaScript the code and its recorded output stay as they are", async () => {
  const { page, context } = await open("/run", { javaScriptEnabled: false });
  const snippet = block(page, "hello from the recorded run");
  assert.equal(await page.locator(".run-bar, button.run-button").count(), 0);
  assert.ok(await snippet.locator(".recorded-output").isVisible());
  assert.equal(await snippet.locator("pre.code").getAttribute("tabindex"), null);
  await context.close();
});

test("screenshot of a finished run (docs/run-screenshot.png)", async () => {
  const { page, context } = await open("/streaming", { viewport: { width: 1100, height: 700 }, colorScheme: "light" });
  const snippet = page.locator(".snippet");
  await snippet.getByRole("button", { name: "Run" }).click();
  await ended(snippet, "ok");
  assert.equal(await snippet.locator(".run-stderr").textContent(), "warning: cache is cold\n");
  await page.locator(".run-bar button").first().blur();
  await page.mouse.move(0, 0);
  mkdirSync(join(repo, "docs"), { recursive: true });
  const box = await page.locator("article").boundingBox();
  await page.screenshot({
    path: join(repo, "docs/run-screenshot.png"),
    fullPage: true,
    clip: { x: box.x - 24, y: box.y - 16, width: box.width + 48, height: box.height + 32 },
  });
  await context.close();
});
