// The site in a real browser: themes, the phone menu without JavaScript,
// and live reload under --watch.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyFixture, launchBrowser, startServer } from "./harness.mjs";

let server;
let chrome;
let content;

before(async () => {
  content = copyFixture("site");
  server = await startServer(["serve", "--content", content, "--watch"]);
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
  rmSync(content, { recursive: true, force: true });
});

test("the theme toggle switches theme and the choice survives a reload", async () => {
  const context = await chrome.browser.newContext({ colorScheme: "light" });
  const page = await context.newPage();
  await page.goto(`${server.base}/alpha`);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const light = await background();
  const toggle = page.locator("button.theme-toggle");
  await toggle.click();
  assert.equal(await page.getAttribute("html", "data-theme"), "dark");
  const dark = await background();
  assert.notEqual(dark, light, "the page colours change");
  await page.reload();
  assert.equal(await page.getAttribute("html", "data-theme"), "dark");
  assert.equal(await background(), dark);
  await toggle.click();
  assert.equal(await background(), light);
  await context.close();
});

test("a dark system theme is followed until the reader picks one", async () => {
  const context = await chrome.browser.newContext({ colorScheme: "dark" });
  const page = await context.newPage();
  await page.goto(`${server.base}/alpha`);
  assert.equal(await page.getAttribute("html", "data-theme"), null);
  const label = await page.getAttribute("button.theme-toggle", "aria-label");
  assert.equal(label, "Switch to light theme");
  await context.close();
});

test("without JavaScript the page reads and the phone menu opens", async () => {
  const context = await chrome.browser.newContext({
    javaScriptEnabled: false,
    viewport: { width: 390, height: 800 },
  });
  const page = await context.newPage();
  await page.goto(`${server.base}/guide/usage`);
  assert.ok(await page.locator("article h1").isVisible());
  assert.ok(await page.locator(".recorded-output pre").isVisible());
  assert.equal(await page.locator("button.theme-toggle").isVisible(), false);
  const sidebar = page.locator("nav.sidebar");
  assert.equal(await sidebar.isVisible(), false, "the menu starts closed on a phone");
  await page.locator("label.nav-toggle-label").click();
  assert.ok(await sidebar.isVisible(), "the menu opens without JavaScript");
  await page.locator("nav.sidebar a[href='/alpha']").click();
  await page.waitForURL(`${server.base}/alpha`);
  await context.close();
});

test("the page never scrolls sideways on a phone", async () => {
  const context = await chrome.browser.newContext({ viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  for (const path of ["/", "/guide/usage", "/guide/install"]) {
    await page.goto(`${server.base}${path}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${path} is ${overflow}px wider than the screen`);
  }
  await context.close();
});

test("an open page reloads itself when its file changes", async () => {
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/beta`);
  await page.waitForFunction(() => document.readyState === "complete");
  // Give the live-reload stream a moment to connect before the edit.
  await page.waitForTimeout(300);
  writeFileSync(join(content, "beta.md"), "# Beta from heading\n\nEdited while open.\n");
  await page.locator("text=Edited while open.").waitFor({ timeout: 10_000 });
  await context.close();
});
