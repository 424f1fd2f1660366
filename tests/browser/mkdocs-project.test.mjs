// An mkdocs-material project served as it is, in a real browser: the sidebar
// follows mkdocs.yml's nav, content tabs switch and a collapsed admonition
// opens with JavaScript off, the example inside an admonition runs, and an
// interpreter session runs as a transcript.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { copyFixture, launchBrowser, startServer } from "./harness.mjs";

let server;
let chrome;
let project;

before(async () => {
  project = copyFixture("material-project");
  server = await startServer(["serve", "--content", project]);
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
  rmSync(project, { recursive: true, force: true });
});

test("the sidebar is the project's nav, titled as mkdocs.yml says", async () => {
  const page = await (await chrome.browser.newContext()).newPage();
  await page.goto(`${server.base}/`);
  assert.equal(await page.locator(".site-title").textContent(), "Ripple");
  const links = await page.locator("nav.sidebar a").evaluateAll((all) => all.map((a) => a.textContent.trim()));
  assert.deepEqual(links, ["Overview", "First steps", "Installing", "Reference", "API"]);
  await page.context().close();
});

test("tabs switch and a collapsed admonition opens without JavaScript", async () => {
  const context = await chrome.browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.base}/tutorials/first-steps`);
  const pip = page.getByText("pip install ripple");
  const uv = page.getByText("uv add ripple");
  assert.ok(await pip.isVisible());
  assert.equal(await uv.isVisible(), false);
  await page.locator(".tabbed-label", { hasText: "uv" }).click();
  assert.ok(await uv.isVisible());
  const inside = page.getByText("It keeps two decimals:");
  assert.equal(await inside.isVisible(), false);
  await page.locator("details.question > summary").click();
  assert.ok(await inside.isVisible());
  await context.close();
});

test("the example inside an admonition runs, and so does a session", async () => {
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  const inNote = page.locator(".admonition .snippet");
  await inNote.getByRole("button", { name: "Run" }).click();
  await inNote.locator('.run-status[data-status="ok"]').waitFor({ timeout: 15_000 });
  assert.equal(await inNote.locator(".run-text").textContent(), "6\n");

  await page.goto(`${server.base}/tutorials/first-steps`);
  const session = page.locator(".snippet", { has: page.locator("pre.code", { hasText: "ripple" }) }).last();
  await session.getByRole("button", { name: "Run" }).click();
  await session.locator('.run-status[data-status="ok"]').waitFor({ timeout: 15_000 });
  const transcript = await session.locator(".run-text").allTextContents();
  assert.equal(transcript.join(""), ">>> 2 + 2\n4\n>>> \"ripple\".upper()\n'RIPPLE'\n");
  await context.close();
});
