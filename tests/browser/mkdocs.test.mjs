// Pages written for mkdocs in a real browser: content tabs switch with
// JavaScript off, a collapsed admonition opens, and code inside a tab runs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { copyFixture, launchBrowser, startServer } from "./harness.mjs";

let server;
let chrome;
let content;

before(async () => {
  content = copyFixture("foreign-fences");
  server = await startServer(["serve", "--content", content]);
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
  rmSync(content, { recursive: true, force: true });
});

test("content tabs switch and a collapsed admonition opens, with JavaScript off", async () => {
  const context = await chrome.browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  const pip = page.getByText("pip install demo");
  const python = page.getByText('print("from a tab")');
  assert.ok(await pip.isVisible());
  assert.equal(await python.isVisible(), false);
  await page.locator(".tabbed-label", { hasText: "In Python" }).click();
  assert.ok(await python.isVisible());
  assert.equal(await pip.isVisible(), false);
  const hidden = page.getByText("Collapsed until opened.");
  assert.equal(await hidden.isVisible(), false);
  await page.locator("details.tip > summary").click();
  assert.ok(await hidden.isVisible());
  assert.ok(await page.getByText("Shown at once.").isVisible());
  await context.close();
});

test("code in a tab runs", async () => {
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  await page.locator(".tabbed-label", { hasText: "In Python" }).click();
  const snippet = page.locator(".snippet", { has: page.locator("pre.code", { hasText: "from a tab" }) });
  await snippet.getByRole("button", { name: "Run" }).click();
  await snippet.locator('.run-status[data-status="ok"]').waitFor({ timeout: 15_000 });
  assert.equal(await snippet.locator(".run-text").textContent(), "from a tab\n");
  await context.close();
});
