// The wiki's pages in a real browser: editing a page and saving it, two
// editors of one page (the second gets the conflict screen, combines and
// saves), a draft that survives a reload, the history (old revisions, a
// diff, revert), the preview's Run button, an image upload, and what a
// reader who has not signed in sees where only some may edit.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { copyFixtureAsRepository, launchBrowser, repo, startServer } from "./harness.mjs";

const binary = process.env.RUNDOCS_BIN ?? join(repo, "target/debug/rundocs");

let server; // access.edit = "open", run.edit = "open"
let chrome;
let content;

/** Starts rundocs on a git copy of the wiki fixture with `env` added. */
async function serveWith(dir, env, args = []) {
  Object.assign(process.env, env);
  try {
    return await startServer(["serve", "--content", dir, ...args]);
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
  }
}

before(async () => {
  content = copyFixtureAsRepository("wiki");
  server = await serveWith(content, { RUNDOCS_ACCESS__EDIT: "open", RUNDOCS_RUN__EDIT: "open" });
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
  rmSync(content, { recursive: true, force: true });
});

/** A fresh browser (context) and page; `page.violations()` lists Content-Security-Policy violations. */
async function newPage(options = {}) {
  const context = await chrome.browser.newContext({ viewport: { width: 1300, height: 900 }, ...options });
  await context.addInitScript(() => {
    window.violations = [];
    document.addEventListener("securitypolicyviolation", (event) =>
      window.violations.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  const page = await context.newPage();
  page.violations = () => page.evaluate(() => window.violations);
  return { page, context };
}

/** Saves `source` as a new page at `path` through the API; resolves to its answer. */
async function createPage(path, source, message = "") {
  const response = await fetch(`${server.base}/_rundocs/api/page?path=${encodeURIComponent(path)}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ source, base: null, message }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

async function pageSource(path) {
  const response = await fetch(`${server.base}/_rundocs/api/page?path=${encodeURIComponent(path)}`);
  return response.json();
}

/** The editor's CodeMirror content (inside its shadow root). */
const editorOf = (page) => page.getByRole("textbox", { name: /Markdown source of the page/ }).and(page.locator(".cm-content"));

/** Opens the editor of `path` and waits for CodeMirror and the first preview. */
async function openEditor(page, path) {
  await page.goto(`${server.base}/_rundocs/edit?path=${encodeURIComponent(path)}`);
  await editorOf(page).waitFor();
  await page.locator(".wiki-preview > *").first().waitFor();
}

/** The editor's text, line by line as CodeMirror holds it. */
async function editorText(page) {
  return (await editorOf(page).locator(".cm-line").allTextContents()).join("\n");
}

/** Replaces the editor's whole text with `text`, as typing would. */
async function setEditorText(page, text) {
  await editorOf(page).click();
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText(text);
}

/** Waits for the preview to show `text`. */
async function previewShows(page, text) {
  await page.locator(".wiki-preview", { hasText: text }).waitFor();
}

test("editing a page and saving it: the page shows the change at once, as a commit with its message", async () => {
  const { page, context } = await newPage();
  await page.goto(`${server.base}/guide/setup`);
  await page.getByRole("link", { name: "Edit this page" }).click();
  await editorOf(page).waitFor();
  assert.equal(new URL(page.url()).pathname, "/_rundocs/edit");
  assert.match(await editorText(page), /^# Setup\n\n```python\nprint\("set up"\)\n```/);
  // Markdown is highlighted, and Python inside its fence as Python.
  assert.ok(await editorOf(page).locator(".cm-line").first().locator("span").count(), "the heading is highlighted");

  await editorOf(page).click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\nRun it once before the workers start.\n");
  await previewShows(page, "Run it once before the workers start.");
  await page.getByLabel("Describe your change").fill("Say when to run it");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(`${server.base}/guide/setup`);
  assert.match(await page.locator("article").innerText(), /Run it once before the workers start\./);

  const history = await (await fetch(`${server.base}/_rundocs/api/history?path=guide/setup.md`)).json();
  assert.equal(history[0].message, "Say when to run it");
  assert.deepEqual(await page.violations(), []);
  await context.close();
});

test("moving a page from the editor: one commit, and the old address leads to the new one", async () => {
  await createPage("notes/moving.md", "# Moving\n\nThis page moves.\n");
  const { page, context } = await newPage();
  await page.goto(`${server.base}/_rundocs/edit?path=notes/moving.md`);
  await editorOf(page).waitFor();
  await page.locator(".wiki-move summary").click();
  await page.getByLabel("New file").fill("notes/moved.md");
  await page.getByRole("button", { name: "Move", exact: true }).click();
  await page.waitForURL(`${server.base}/notes/moved`);
  assert.match(await page.locator("article").innerText(), /This page moves\./);
  await page.goto(`${server.base}/notes/moving`);
  assert.equal(new URL(page.url()).pathname, "/notes/moved", "the old address redirects");
  const history = await (await fetch(`${server.base}/_rundocs/api/history?limit=2`)).json();
  assert.deepEqual(history.map((change) => change.message), ["Move notes/moving.md to notes/moved.md", "Move notes/moving.md to notes/moved.md"]);
  await context.close();
});

test("two browsers editing one page: the second gets both texts side by side, combines them and saves", async () => {
  const first = await newPage();
  const second = await newPage();
  await openEditor(first.page, "notes.md");
  await openEditor(second.page, "notes.md");
  const original = (await pageSource("notes.md")).source;

  await setEditorText(first.page, original.replace("about the queue.", "about the queue (bounded)."));
  await first.page.getByRole("button", { name: "Save" }).click();
  await first.page.waitForURL(`${server.base}/notes`);

  const mine = original.replace("about the queue.", "about the queue and its readers.");
  await setEditorText(second.page, mine);
  await second.page.getByRole("button", { name: "Save" }).click();
  const screen = second.page.locator(".wiki-conflict");
  await screen.waitFor();
  assert.match(await screen.locator(".wiki-conflict-message").innerText(), /changed by someone else/);
  assert.match(await screen.locator(".wiki-conflict-yours").innerText(), /about the queue and its readers\./);
  assert.match(await screen.locator(".wiki-conflict-current").innerText(), /about the queue \(bounded\)\./);
  const diff = screen.locator(".wiki-diff");
  assert.match(await diff.locator(".diff-del").allInnerTexts().then((l) => l.join("\n")), /-First paragraph, about the queue \(bounded\)\./);
  assert.match(await diff.locator(".diff-add").allInnerTexts().then((l) => l.join("\n")), /\+First paragraph, about the queue and its readers\./);
  assert.equal(await editorText(second.page), mine, "nothing typed is lost");

  // Combine: the editor keeps this editor's text, now based on the current
  // revision, with the current text beside it.
  await screen.getByRole("button", { name: "Combine in my text" }).click();
  await screen.locator(".wiki-conflict-next").waitFor();
  assert.ok(await screen.locator(".wiki-conflict-current").isVisible());
  assert.match(await screen.locator(".wiki-conflict-current").innerText(), /\(bounded\)/);
  // Reloaded meanwhile: the draft brings back the text and the one beside it.
  await second.page.reload();
  await editorOf(second.page).waitFor();
  await second.page.getByRole("button", { name: "Restore the draft" }).click();
  assert.equal(await editorText(second.page), mine);
  assert.match(await screen.locator(".wiki-conflict-current").innerText(), /\(bounded\)/);
  const combined = original.replace("about the queue.", "about the queue (bounded) and its readers.");
  await setEditorText(second.page, combined);
  await second.page.getByRole("button", { name: "Save" }).click();
  await second.page.waitForURL(`${server.base}/notes`);
  assert.match(await second.page.locator("article").innerText(), /about the queue \(bounded\) and its readers\./);
  assert.equal((await pageSource("notes.md")).source, combined);
  const drafts = await second.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("rundocs-draft:")));
  assert.deepEqual(drafts, [], "the saved draft is gone");
  await first.context.close();
  await second.context.close();
});

test("a draft survives a reload, is offered back, and is gone once saved", async () => {
  await createPage("drafts.md", "# Drafts\n\nWritten before.\n");
  const { page, context } = await newPage();
  await openEditor(page, "drafts.md");
  await editorOf(page).click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("Typed, then the tab was reloaded.");
  await page.getByLabel("Describe your change").fill("Keep the draft");
  await page.reload();
  await editorOf(page).waitFor();
  const offer = page.locator(".wiki-notice", { hasText: "You have a draft of this page" });
  await offer.waitFor();
  assert.equal(await editorText(page), "# Drafts\n\nWritten before.\n", "the saved text until the draft is restored");
  await offer.getByRole("button", { name: "Restore the draft" }).click();
  assert.match(await editorText(page), /Typed, then the tab was reloaded\.$/);
  assert.equal(await page.getByLabel("Describe your change").inputValue(), "Keep the draft");
  await previewShows(page, "Typed, then the tab was reloaded.");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(`${server.base}/drafts`);

  await openEditor(page, "drafts.md");
  await page.waitForTimeout(300);
  assert.equal(await page.locator(".wiki-notice", { hasText: "draft" }).count(), 0, "no draft after saving");
  await context.close();
});

test("the history lists the commits, shows an old revision and a diff, and revert restores the old text", async () => {
  const firstText = "# History demo\n\nThe first words.\n\n```python\nprint('as it was')\n```\n";
  await createPage("history-demo.md", firstText, "Start the demo");
  const { revision } = await pageSource("history-demo.md");
  const response = await fetch(`${server.base}/_rundocs/api/page?path=history-demo.md`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ source: firstText.replace("first", "second"), base: revision, message: "Say it again" }),
  });
  assert.equal(response.status, 200);

  const { page, context } = await newPage();
  await page.goto(`${server.base}/history-demo`);
  await page.getByRole("link", { name: "History", exact: true }).click();
  const rows = page.locator("table.wiki-changes tbody tr");
  assert.equal(await rows.count(), 2);
  assert.deepEqual(await rows.locator("td:nth-child(5)").allInnerTexts(), ["Say it again", "Start the demo"]);

  await page.getByRole("button", { name: "Compare the two revisions" }).click();
  assert.deepEqual(await page.locator("pre.wiki-diff .diff-del").allInnerTexts(), ["-The first words."]);
  assert.deepEqual(await page.locator("pre.wiki-diff .diff-add").allInnerTexts(), ["+The second words."]);

  await rows.nth(1).getByRole("link").click();
  assert.match(await page.locator(".wiki-old-revision").innerText(), /The first words\./);
  assert.equal(await page.locator(".wiki-old-revision pre.code").count(), 1, "its example is shown");
  assert.equal(await page.locator(".wiki-old-revision .run-button").count(), 0, "and not run");
  await page.getByRole("link", { name: "Source" }).click();
  assert.equal(await page.locator("pre.wiki-old-source").innerText(), firstText);

  await page.getByRole("button", { name: "Revert to this revision" }).click();
  await page.waitForURL(/\/_rundocs\/history\?path=history-demo\.md$/);
  assert.equal(await rows.count(), 3);
  assert.match(await rows.first().locator("td:nth-child(5)").innerText(), /^Revert history-demo\.md to /);
  await page.goto(`${server.base}/history-demo`);
  assert.match(await page.locator("article").innerText(), /The first words\./);
  await context.close();
});

test("a new page: a bad name is refused with the server's sentence; the preview runs its examples, required blocks first", async () => {
  const { page, context } = await newPage();
  // The 404 page offers a page at its address.
  await page.goto(`${server.base}/guide/brand-new`);
  await page.getByRole("link", { name: "Create a page here" }).click();
  await editorOf(page).waitFor();
  assert.equal(await page.getByLabel("Page file").inputValue(), "guide/brand-new.md");
  assert.equal(await editorText(page), "# Brand new\n\n");

  await page.goto(`${server.base}/`);
  await page.getByRole("link", { name: "New page" }).click();
  await editorOf(page).waitFor();
  await page.getByLabel("Page file").fill("../outside.md");
  await setEditorText(page, "# Outside\n");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator(".wiki-notice-error", { hasText: "steps out with . or .." }).waitFor();

  await page.getByLabel("Page file").fill("guide/queues.md");
  await setEditorText(
    page,
    [
      "# Queues",
      "",
      '!!! note "Bounded"',
      "    A queue with a bound blocks its writers.",
      "",
      "```python name=setup",
      "import queue",
      "q = queue.Queue(maxsize=2)",
      "```",
      "",
      "```python requires=setup",
      "q.put(1)",
      "print(q.qsize())",
      'raise ValueError("full soon")',
      "```",
      "",
    ].join("\n"),
  );
  await page.locator(".wiki-preview .admonition-title", { hasText: "Bounded" }).waitFor();
  const block = page.locator(".wiki-preview .snippet", { hasText: "q.put(1)" });
  await block.getByRole("button", { name: "Run" }).click();
  const status = block.locator(".run-status");
  await status.locator("text=/^error/").waitFor({ timeout: 30_000 });
  assert.match(await status.innerText(), /^error · line 3 ·/);
  assert.match(await block.locator(".run-text").innerText(), /^1\n/);
  assert.match(await block.locator(".code-line-error").innerText(), /raise ValueError/);

  // The save's check (wiki.check_on_save = "warn") runs the examples: saved,
  // and the editor says which one failed.
  await page.getByRole("button", { name: "Save" }).click();
  const failed = page.locator(".wiki-notice-error", { hasText: "Saved, but examples of the page failed" });
  await failed.waitFor({ timeout: 30_000 });
  assert.match(await failed.innerText(), /block 2 \(line 11\)/);
  await failed.getByRole("button", { name: "View the page" }).click();
  await page.waitForURL(`${server.base}/guide/queues`);
  assert.equal(await page.locator("article .snippet").count(), 2);
  assert.deepEqual(await page.violations(), []);
  await context.close();
});

test("an image uploaded from the editor is committed into the page's folder and linked at the cursor", async () => {
  const png = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "base64",
  );
  const { page, context } = await newPage();
  await openEditor(page, "guide/setup.md");
  await editorOf(page).click();
  await page.keyboard.press("Control+End");
  await page.locator(".wiki-image-file").setInputFiles({ name: "Queue diagram.png", mimeType: "image/png", buffer: png });
  await editorOf(page).locator(".cm-line", { hasText: "![Queue-diagram](Queue-diagram.png)" }).waitFor();
  const image = page.locator(".wiki-preview img");
  await image.waitFor();
  await page.waitForFunction(() => document.querySelector(".wiki-preview img")?.naturalWidth === 1);
  assert.equal(new URL(await image.evaluate((img) => img.src)).pathname, "/guide/Queue-diagram.png");

  // A second image of the same name does not replace the first.
  const other = Buffer.concat([png, Buffer.from("other bytes")]);
  await page.locator(".wiki-image-file").setInputFiles({ name: "Queue diagram.png", mimeType: "image/png", buffer: other });
  await editorOf(page).locator(".cm-line", { hasText: "(Queue-diagram-2.png)" }).waitFor();

  // Not an image: refused with the server's sentence.
  await page.locator(".wiki-image-file").setInputFiles({ name: "notes.png", mimeType: "image/png", buffer: Buffer.from("plain text") });
  await page.locator(".wiki-notice-error", { hasText: "not a PNG, JPEG, GIF, WebP or SVG image" }).waitFor();

  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(`${server.base}/guide/setup`);
  await page.waitForFunction(() => document.querySelector("article img")?.naturalWidth === 1);
  const log = execFileSync("git", ["log", "--format=%s", "-4"], { cwd: content }).toString();
  assert.match(log, /^Add guide\/Queue-diagram\.png$/m);
  await context.close();
});

test("where only some may edit: a reader signs in to edit, and one who may not edit sees no edit controls", async (t) => {
  const hash = execFileSync(binary, ["hash-password"], { input: "secret" }).toString().trim();
  const dir = mkdtempSync(join(tmpdir(), "rundocs-browser-config-"));
  const config = resolve(dir, "rundocs.toml");
  writeFileSync(config, [
    "[access]",
    'edit = "restricted"',
    'editors = ["alice"]',
    `users = { alice = "${hash}", bob = "${hash}" }`,
    "",
  ].join("\n"));
  const wiki = copyFixtureAsRepository("wiki");
  const restricted = await serveWith(wiki, {}, ["--config", config]);
  t.after(async () => {
    await restricted.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(wiki, { recursive: true, force: true });
  });

  const stranger = await newPage();
  await stranger.page.goto(`${restricted.base}/notes`);
  const signIn = stranger.page.getByRole("link", { name: "Sign in to edit" });
  await signIn.waitFor();
  assert.equal(await stranger.page.getByRole("link", { name: "New page" }).count(), 0);
  assert.equal(await stranger.page.getByRole("link", { name: "Edit this page" }).count(), 0);
  await stranger.context.close();

  const bob = await newPage({ httpCredentials: { username: "bob", password: "secret" } });
  await bob.page.goto(`${restricted.base}/_rundocs/login?next=/notes`);
  await bob.page.waitForURL(`${restricted.base}/notes`);
  await bob.page.waitForLoadState("networkidle"); // the session has answered
  for (const name of ["Edit this page", "Sign in to edit", "New page"]) {
    assert.equal(await bob.page.getByRole("link", { name }).count(), 0, `bob sees no ${name}`);
  }
  await bob.context.close();

  const alice = await newPage({ httpCredentials: { username: "alice", password: "secret" } });
  await alice.page.goto(`${restricted.base}/notes`);
  await alice.page.getByRole("link", { name: "Sign in to edit" }).click();
  await alice.page.waitForURL(`${restricted.base}/_rundocs/edit?path=notes.md`);
  await editorOf(alice.page).waitFor();
  await alice.page.goto(`${restricted.base}/notes`);
  await alice.page.getByRole("link", { name: "Edit this page" }).waitFor();
  await alice.page.getByRole("link", { name: "New page" }).waitFor();
  await alice.context.close();
});
