// Search as you type, the site under a base path, and access control
// (restricted runs and reading with HTTP basic auth), in a real browser.
// Every test starts a server and a browser of its own and stops both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { copyFixture, launchBrowser, repo, startServer } from "./harness.mjs";

const binary = process.env.RUNDOCS_BIN ?? join(repo, "target/debug/rundocs");

/** The page titles of the fixture, none of which a stranger may see when reading is restricted. */
const TITLES = ["Concurrency notes", "Lock ordering", "Message queues"];

/**
 * A copy of the fixture, a server on it started with `args` (after
 * `serve --content DIR`) and a browser; all three are removed after test `t`.
 */
async function setUp(t, args = []) {
  const content = copyFixture("browser-wiki");
  const server = await startServer(["serve", "--content", content, ...args]);
  let chrome;
  t.after(async () => {
    await chrome?.close();
    await server.close();
    rmSync(content, { recursive: true, force: true });
  });
  chrome = await launchBrowser();
  return { content, base: server.base, browser: chrome.browser };
}

/** A config file in a temp dir with `access` (TOML lines) under [access]; alice's password is "secret". */
function accessConfig(t, ...lines) {
  const hash = execFileSync(binary, ["hash-password"], { input: "secret" }).toString().trim();
  assert.match(hash, /^\$argon2/, "hash-password prints a PHC string");
  const dir = mkdtempSync(join(tmpdir(), "rundocs-browser-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "rundocs.toml");
  writeFileSync(path, ["[access]", ...lines, `users = { alice = "${hash}" }`, ""].join("\n"));
  return resolve(path);
}

/** Records every failed request and every answer of 400 or more the page gets. */
function watchFailures(page) {
  const failures = [];
  page.on("requestfailed", (request) => {
    const error = request.failure()?.errorText;
    // Leaving a page ends its live-reload stream, and the page stops reading
    // a run's stream at its `end` event, maybe before the server closes it.
    const stream = request.url().endsWith("/api/live-reload") || request.url().includes("/api/run/");
    if (stream && error === "net::ERR_ABORTED") return;
    failures.push(`${request.url()} failed: ${error}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) failures.push(`${response.url()} answered ${response.status()}`);
  });
  return failures;
}

/** The runnable block whose code contains `text`. */
const block = (page, text) => page.locator(".snippet", { has: page.locator("pre.code", { hasText: text }) });

/** Waits until the block's run ends with status ok; returns its output text. */
async function runOk(snippet) {
  await snippet.locator('.run-status[data-status="ok"]').waitFor({ timeout: 15_000 });
  return snippet.locator(".run-text").textContent();
}

/** Presses `/` on the page (nothing focused) and types `text` into the search box; waits for the popup. */
async function searchFor(page, text) {
  await page.keyboard.press("/");
  assert.equal(
    await page.evaluate(() => document.activeElement?.classList.contains("search-input")),
    true,
    "`/` focuses the search box",
  );
  await page.keyboard.type(text);
  const popup = page.locator(".search-popup");
  await popup.locator("a.search-popup-all", { hasText: text }).waitFor();
  assert.equal(await popup.isVisible(), true);
  return popup;
}

test("search as you type: `/` focuses the box, a prefix finds the section, Escape closes, Enter submits", async (t) => {
  const { base, browser } = await setUp(t);
  const page = await browser.newPage();
  await page.goto(`${base}/message-queues`);
  const input = page.locator("input.search-input");

  const popup = await searchFor(page, "gridl");
  assert.equal(await popup.getAttribute("role"), "listbox");
  assert.equal(await input.getAttribute("aria-expanded"), "true");
  const hits = popup.locator("a.search-popup-hit");
  assert.equal(await hits.count(), 1, "only the section about gridlock matches");
  const hit = hits.first();
  assert.equal(await hit.locator(".search-popup-title").textContent(), "Lock ordering");
  assert.equal(await hit.locator(".search-popup-heading").textContent(), "Breaking the gridlock cycle");
  assert.deepEqual(
    await hit.locator(".search-popup-excerpt mark").allTextContents(),
    ["gridlock"],
    "the prefix `gridl` marks the whole word in the excerpt",
  );
  assert.match(await hit.locator(".search-popup-excerpt").textContent(), /^A cycle of waiting threads is a gridlock: each holds/);
  assert.equal(await hit.getAttribute("href"), "/lock-ordering#breaking-the-gridlock-cycle");
  const all = popup.locator("a.search-popup-all");
  assert.equal(await all.getAttribute("href"), "/_rundocs/search?q=gridl");
  assert.equal(await all.textContent(), "All results for \u201cgridl\u201d");
  assert.equal(await popup.locator("a").last().getAttribute("class"), "search-popup-all", "the link to all results comes last");

  // Escape closes the popup and leaves the box; `/` comes back to it.
  await page.keyboard.press("Escape");
  await popup.waitFor({ state: "hidden" });
  assert.equal(await input.getAttribute("aria-expanded"), "false");
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector(".search-input")), false);
  // (Chromium also empties a type=search box on Escape, so type the query again.)
  await searchFor(page, "gridl");
  assert.equal(await input.inputValue(), "gridl");
  assert.equal(await hits.count(), 1);

  // Clicking the hit goes to its section.
  await hit.click();
  await page.waitForURL(`${base}/lock-ordering#breaking-the-gridlock-cycle`);
  const target = page.locator("#breaking-the-gridlock-cycle");
  assert.equal(await target.evaluate((element) => element.tagName), "H2");
  assert.match(await target.textContent(), /^Breaking the gridlock cycle/);
  assert.match(await page.locator("article h1").textContent(), /^Lock ordering/);

  // Enter with nothing selected submits the form: the results page.
  const second = await searchFor(page, "bounded qu");
  assert.equal(await second.locator(".search-popup-hit .search-popup-title").first().textContent(), "Message queues");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/_rundocs/search?q=bounded+qu`);
  const links = page.locator("li.search-result a.search-result-link");
  assert.equal(await links.count(), 1);
  assert.equal(await links.getAttribute("href"), "/message-queues#backpressure-with-a-bounded-queue");
  assert.deepEqual(await page.locator("p.search-result-excerpt mark").allTextContents(), ["bounded", "queue"]);

  // A query nothing matches says so, and still offers the results page.
  await page.goto(`${base}/`);
  const none = await searchFor(page, "xylophone");
  assert.equal(await none.locator("a.search-popup-hit").count(), 0);
  assert.equal(await none.locator(".search-popup-none").textContent(), "No matches for \u201cxylophone\u201d");
});

test("search as you type: the arrow keys pick a result and Enter follows it", async (t) => {
  const { base, browser } = await setUp(t);
  const page = await browser.newPage();
  await page.goto(`${base}/message-queues`);
  const input = page.locator("input.search-input");
  const popup = await searchFor(page, "gridl");
  const hit = popup.locator("a.search-popup-hit");
  const all = popup.locator("a.search-popup-all");
  assert.equal(await hit.count(), 1);
  const selected = () => popup.locator("a.is-active").evaluateAll((links) => links.map((link) => link.className));

  assert.deepEqual(await selected(), [], "nothing is selected at first");
  await page.keyboard.press("ArrowDown");
  assert.deepEqual(await selected(), ["search-popup-hit is-active"], "ArrowDown selects the first hit");
  assert.equal(await input.getAttribute("aria-activedescendant"), await hit.getAttribute("id"));
  await page.keyboard.press("ArrowDown");
  assert.deepEqual(await selected(), ["search-popup-all is-active"], "the next ArrowDown selects the link to all results");
  assert.equal(await input.getAttribute("aria-activedescendant"), await all.getAttribute("id"));
  await page.keyboard.press("ArrowUp");
  assert.deepEqual(await selected(), ["search-popup-hit is-active"], "ArrowUp goes back to the hit");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/lock-ordering#breaking-the-gridlock-cycle`);
  assert.match(await page.locator("#breaking-the-gridlock-cycle").textContent(), /^Breaking the gridlock cycle/);
});

test("without JavaScript the search box submits to a results page", async (t) => {
  const { base, browser } = await setUp(t);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base}/message-queues`);
  await page.locator("input.search-input").fill("gridlock");
  await page.locator("input.search-input").press("Enter");
  await page.waitForURL(`${base}/_rundocs/search?q=gridlock`);
  assert.equal(await page.locator(".search-popup").count(), 0, "no popup without JavaScript");
  assert.equal(await page.locator("input.search-input").inputValue(), "gridlock", "the header box keeps the query");
  assert.match(await page.locator(".search-summary").textContent(), /^1 section(s)? match(es)? gridlock\.$/);
  const results = page.locator("li.search-result");
  assert.equal(await results.count(), 1);
  const link = results.locator("a.search-result-link");
  assert.equal(await link.getAttribute("href"), "/lock-ordering#breaking-the-gridlock-cycle");
  assert.equal(await link.locator(".search-result-title").textContent(), "Lock ordering");
  assert.equal(await link.locator(".search-result-heading").textContent(), "Breaking the gridlock cycle");
  assert.deepEqual(await results.locator("p.search-result-excerpt mark").allTextContents(), ["gridlock"]);
  await link.click();
  await page.waitForURL(`${base}/lock-ordering#breaking-the-gridlock-cycle`);
  assert.equal(await page.locator("#breaking-the-gridlock-cycle").count(), 1);

  // The search page's own form.
  await page.goto(`${base}/search`);
  assert.equal(await page.locator(".search-summary").textContent(), "Type words to look for in titles, headings, text and code.");
  await page.locator(".search-page-form input[name=q]").fill("xylophone");
  await page.locator(".search-page-form button[type=submit]").click();
  await page.waitForURL(`${base}/_rundocs/search?q=xylophone`);
  assert.equal(await page.locator("li.search-result").count(), 0);
  assert.match(await page.locator(".search-summary").textContent(), /^Nothing matches xylophone\./);
  await context.close();
});

test("under --base-path every link, asset and form stays under it", async (t) => {
  const { base, browser } = await setUp(t, ["--base-path", "/docs", "--watch"]);

  // The root and the bare base path both go to the home page.
  for (const path of ["/", "/docs"]) {
    const response = await fetch(`${base}${path}`, { redirect: "manual" });
    assert.equal(response.status, 308, `GET ${path}`);
    assert.equal(response.headers.get("location"), "/docs/", `GET ${path}`);
  }
  const outside = await fetch(`${base}/lock-ordering`);
  assert.equal(outside.status, 404, "a page outside the base path is not served");

  const page = await browser.newPage();
  const failures = watchFailures(page);
  await page.goto(`${base}/`);
  assert.equal(page.url(), `${base}/docs/`);

  for (const path of ["/docs/", "/docs/lock-ordering", "/docs/message-queues", "/docs/search?q=lock"]) {
    if (page.url() !== `${base}${path}`) await page.goto(`${base}${path}`);
    await page.waitForLoadState("load");
    const urls = await page.evaluate(() => [
      ...[...document.querySelectorAll('a[href^="/"]')].map((a) => a.getAttribute("href")),
      ...[...document.querySelectorAll("link[href]")].map((l) => l.getAttribute("href")),
      ...[...document.querySelectorAll("script[src]")].map((s) => s.getAttribute("src")),
      ...[...document.querySelectorAll("form[action]")].map((f) => f.getAttribute("action")),
      document.body.getAttribute("data-live-reload"),
    ]);
    assert.ok(urls.length >= 8, `${path} has its links and assets: ${urls}`);
    const outsideBase = urls.filter((url) => !url?.startsWith("/docs/"));
    assert.deepEqual(outsideBase, [], `every URL on ${path} is under /docs/`);
    assert.equal(await page.locator("form.search").getAttribute("action"), "/docs/_rundocs/search");
    // The stylesheets loaded and apply.
    assert.equal(await page.locator(".site-header").evaluate((h) => getComputedStyle(h).position), "sticky", `style.css applies on ${path}`);
    const sheets = await page.evaluate(() =>
      [...document.querySelectorAll("link[rel=stylesheet]")].map((l) => [l.getAttribute("href"), l.sheet?.cssRules.length ?? 0]),
    );
    for (const [href, rules] of sheets) assert.ok(rules > 0, `${href} loaded on ${path}`);
  }

  // Markdown links to /page come out under the base path, and they work.
  await page.goto(`${base}/docs/lock-ordering`);
  const bodyLink = page.locator("article a", { hasText: "message queues" });
  assert.equal(await bodyLink.getAttribute("href"), "/docs/message-queues");
  assert.equal(await page.locator('a[href="/message-queues"], a[href="/lock-ordering"]').count(), 0);
  await bodyLink.click();
  await page.waitForURL(`${base}/docs/message-queues`);
  assert.match(await page.locator("article h1").textContent(), /^Message queues/);
  const back = page.locator("article a", { hasText: "lock ordering" });
  assert.equal(await back.getAttribute("href"), "/docs/lock-ordering");
  await back.click();
  await page.waitForURL(`${base}/docs/lock-ordering`);
  assert.match(await page.locator("article h1").textContent(), /^Lock ordering/);
  // The site title goes home.
  await page.locator("a.site-title").click();
  await page.waitForURL(`${base}/docs/`);
  assert.deepEqual(failures, [], "no request failed and none was refused");
});

test("under --base-path Run streams output and search as you type links under it", async (t) => {
  const { base, browser } = await setUp(t, ["--base-path", "/docs", "--watch"]);
  const page = await browser.newPage();
  const failures = watchFailures(page);
  await page.goto(`${base}/docs/lock-ordering`);

  const snippet = block(page, "took lock 1");
  const runRequest = page.waitForRequest((request) => request.method() === "POST");
  await snippet.getByRole("button", { name: "Run" }).click();
  const request = await runRequest;
  const id = await snippet.getAttribute("data-snippet-id");
  assert.equal(new URL(request.url()).pathname, `/docs/_rundocs/api/run/${id}`);
  assert.equal(await runOk(snippet), "took lock 1\ntook lock 2\n");
  assert.equal(await snippet.locator(".run-label").textContent(), "Output", "a real run, not the recorded output");

  const popup = await searchFor(page, "backp");
  const hit = popup.locator("a.search-popup-hit").first();
  assert.equal(await hit.locator(".search-popup-title").textContent(), "Message queues");
  assert.equal(await hit.getAttribute("href"), "/docs/message-queues#backpressure-with-a-bounded-queue");
  assert.deepEqual(await hit.locator(".search-popup-excerpt mark").allTextContents(), ["Backpressure"]);
  assert.equal(await popup.locator("a.search-popup-all").getAttribute("href"), "/docs/_rundocs/search?q=backp");
  await hit.click();
  await page.waitForURL(`${base}/docs/message-queues#backpressure-with-a-bounded-queue`);
  assert.equal(await page.locator("#backpressure-with-a-bounded-queue").count(), 1);

  // The link to all results.
  await searchFor(page, "gridl");
  await page.locator("a.search-popup-all").click();
  await page.waitForURL(`${base}/docs/_rundocs/search?q=gridl`);
  assert.equal(await page.locator("a.search-result-link").getAttribute("href"), "/docs/lock-ordering#breaking-the-gridlock-cycle");
  assert.deepEqual(failures, [], "no request failed and none was refused");
});

test("under --base-path an open page reloads itself when its file changes", async (t) => {
  const { content, base, browser } = await setUp(t, ["--base-path", "/docs", "--watch"]);
  const page = await browser.newPage();
  const stream = page.waitForResponse((response) => new URL(response.url()).pathname === "/docs/_rundocs/api/live-reload");
  await page.goto(`${base}/docs/message-queues`);
  assert.equal((await stream).status(), 200, "the live-reload stream is under the base path");
  const generation = await page.getAttribute("body", "data-generation");
  writeFileSync(
    join(content, "message-queues.md"),
    '+++\ntitle = "Message queues"\n+++\n\n# Message queues\n\nRewritten while the page was open.\n',
  );
  await page.locator("text=Rewritten while the page was open.").waitFor({ timeout: 10_000 });
  assert.equal(page.url(), `${base}/docs/message-queues`);
  assert.notEqual(await page.getAttribute("body", "data-generation"), generation, "the page was served again");
  assert.equal(await page.locator("article .snippet").count(), 0, "the new text replaced the old");
});

test("with runs restricted a stranger reads the page and its recorded output, and gets a sign-in link", async (t) => {
  const config = accessConfig(t, 'run = "restricted"');
  const { base, browser } = await setUp(t, ["--config", config]);
  const context = await browser.newContext();
  const page = await context.newPage();
  const session = page.waitForResponse((response) => new URL(response.url()).pathname === "/_rundocs/api/session");
  const response = await page.goto(`${base}/lock-ordering`);
  assert.equal(response.status(), 200);
  assert.equal(await page.getAttribute("body", "data-runs"), "restricted");
  assert.deepEqual(await (await session).json(), {
    user: null,
    can_read: true,
    can_run: false,
    can_edit: false,
    can_edit_pages: false,
    login_url: "/_rundocs/login",
  });

  const snippet = block(page, "took lock 1");
  assert.equal(await snippet.locator("pre.code").textContent(), 'print("took lock 1")\nprint("took lock 2")\n');
  assert.ok(await snippet.locator(".recorded-output").isVisible());
  assert.equal(await snippet.locator(".recorded-output pre").textContent(), "took lock 1\ntook lock 2\n");
  const signIn = snippet.locator("a.run-signin");
  await signIn.waitFor();
  assert.equal(await signIn.textContent(), "Sign in to run");
  assert.equal(await signIn.getAttribute("href"), "/_rundocs/login?next=%2Flock-ordering");
  assert.equal(await snippet.locator("button.run-button").count(), 0, "no Run button");
  assert.equal(await page.locator(".snippet button.run-button").count(), 0, "no Run button on the page at all");
  assert.ok(await snippet.getByRole("button", { name: "Copy" }).isVisible(), "Copy still works");

  // Ctrl+Enter does not run either, and the server refuses a run all the same.
  await snippet.locator("pre.code").focus();
  await page.keyboard.press("Control+Enter");
  assert.equal(await snippet.locator(".run-output").count(), 0);
  const id = await snippet.getAttribute("data-snippet-id");
  const refused = await context.request.post(`${base}/api/run/${id}`);
  assert.equal(refused.status(), 401);
  assert.match((await refused.json()).error, /running examples needs signing in/);
  await context.close();
});

test("with runs restricted, signing in with basic auth through the sign-in link makes Run work", async (t) => {
  const config = accessConfig(t, 'run = "restricted"');
  const { base, browser } = await setUp(t, ["--config", config]);
  const context = await browser.newContext({ httpCredentials: { username: "alice", password: "secret" } });
  const page = await context.newPage();
  // Chromium sends the password only after a challenge: the page starts out anonymous.
  await page.goto(`${base}/lock-ordering`);
  const snippet = block(page, "took lock 1");
  const signIn = snippet.locator("a.run-signin");
  await signIn.waitFor();

  const session = page.waitForResponse((response) => new URL(response.url()).pathname === "/_rundocs/api/session");
  const login = page.waitForResponse((response) => new URL(response.url()).pathname === "/_rundocs/login" && response.status() === 303);
  await signIn.click();
  const redirect = await login;
  assert.equal(redirect.headers()["location"], "/lock-ordering");
  // The page is loaded again (its script asks who the reader is once per load).
  assert.deepEqual(await (await session).json(), {
    user: "alice",
    can_read: true,
    can_run: true,
    can_edit: false,
    can_edit_pages: false,
    login_url: "/_rundocs/login",
  });

  assert.equal(page.url(), `${base}/lock-ordering`);
  const run = snippet.getByRole("button", { name: "Run" });
  await run.waitFor();
  assert.equal(await snippet.locator("a.run-signin").count(), 0);
  await run.click();
  assert.equal(await runOk(snippet), "took lock 1\ntook lock 2\n");
  assert.equal(await snippet.locator(".run-label").textContent(), "Output", "a real run, not the recorded output");

  // The other page's block runs too: the sign-in holds across pages.
  await page.goto(`${base}/message-queues`);
  const other = block(page, "queue.Queue");
  await other.getByRole("button", { name: "Run" }).click();
  assert.equal(await runOk(other), "first second\n");
  await context.close();
});

test("with reading restricted a stranger gets 401 and nothing of the site; alice reads", async (t) => {
  const config = accessConfig(t, 'read = "restricted"');
  const { base, browser } = await setUp(t, ["--config", config]);

  // Headless Chromium fails a navigation answered by a Basic challenge when it
  // has no password to give (net::ERR_INVALID_AUTH_CREDENTIALS) where a person
  // would dismiss the dialog and see the page; so the stranger's requests go
  // through playwright's own HTTP client, which answers no challenge.
  const stranger = await browser.newContext();
  await stranger.route("**/*", async (route) => route.fulfill({ response: await route.fetch() }));
  const page = await stranger.newPage();
  const failures = watchFailures(page);
  for (const path of ["/lock-ordering", "/", "/search?q=gridlock"]) {
    const response = await page.goto(`${base}${path}`);
    assert.equal(response.status(), 401, `GET ${path}`);
    assert.match(response.headers()["www-authenticate"], /^Basic realm="rundocs"/);
    const text = await page.locator("body").innerText();
    assert.match(await page.locator("h1").textContent(), /^Sign in to go on$/);
    assert.match(text, /On this site, reading needs signing in\./);
    for (const secret of [...TITLES, "gridlock", "took lock"]) {
      assert.ok(!text.includes(secret), `the 401 page for ${path} does not show "${secret}": ${text}`);
    }
    assert.equal(await page.locator("nav.sidebar, .search-input, .snippet").count(), 0);
    assert.equal(await page.title(), "Sign in to go on \u00b7 rundocs");
    const login = page.locator("a.access-login");
    assert.equal(await login.textContent(), "Sign in");
    if (!path.includes("?")) assert.equal(await login.getAttribute("href"), `/_rundocs/login?next=${path}`);
  }
  assert.equal(
    await page.locator("link[rel=stylesheet]").evaluate((link) => link.sheet?.cssRules.length ?? 0) > 0,
    true,
    "the 401 page's stylesheet loads without signing in",
  );
  assert.deepEqual(
    failures.filter((failure) => !failure.endsWith("answered 401")),
    [],
    "only the pages themselves are refused",
  );
  const search = await stranger.request.get(`${base}/api/search?q=gridlock`);
  assert.equal(search.status(), 401);
  assert.ok(!(await search.text()).includes("Lock ordering"));
  await stranger.close();

  // A wrong password is refused the same way.
  const guesser = await browser.newContext({ httpCredentials: { username: "alice", password: "wrong" } });
  const guess = await guesser.newPage();
  const refused = await guess.goto(`${base}/lock-ordering`);
  assert.equal(refused.status(), 401);
  assert.equal(await guess.locator("h1").textContent(), "Sign-in failed");
  const guessed = await guess.locator("body").innerText();
  for (const secret of [...TITLES, "gridlock"]) assert.ok(!guessed.includes(secret), `no "${secret}" after a wrong password`);
  await guesser.close();

  // With the password the same page reads, and runs (run follows read).
  const alice = await browser.newContext({ httpCredentials: { username: "alice", password: "secret" } });
  const signedIn = await alice.newPage();
  const response = await signedIn.goto(`${base}/lock-ordering`);
  assert.equal(response.status(), 200);
  assert.match(await signedIn.locator("article h1").textContent(), /^Lock ordering/);
  const snippet = block(signedIn, "took lock 1");
  await snippet.getByRole("button", { name: "Run" }).click();
  assert.equal(await runOk(snippet), "took lock 1\ntook lock 2\n");
  await alice.close();
});
