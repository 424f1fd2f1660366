// The bundled write-ups in a real browser: every article answers, and every
// runnable block on it gets a Run button; one example runs to `ok`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, startServer } from "./harness.mjs";

let server;
let chrome;

before(async () => {
  server = await startServer(["serve"]);
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
});

test("every bundled article shows Run on each of its runnable blocks", async () => {
  const snippets = await (await fetch(`${server.base}/api/snippets`)).json();
  const runnable = new Map();
  for (const snippet of snippets.filter((s) => s.runnable)) {
    runnable.set(snippet.page, (runnable.get(snippet.page) ?? 0) + 1);
  }
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  await page.goto(server.base);
  const links = await page.locator("nav.sidebar a").evaluateAll((anchors) => anchors.map((a) => a.getAttribute("href")));
  const articles = links.filter((href) => href !== "/");
  assert.ok(articles.length >= 7, `articles: ${articles}`);
  let total = 0;
  for (const href of articles) {
    const response = await page.goto(`${server.base}${href}`);
    assert.equal(response.status(), 200, href);
    const expected = runnable.get(href.replace(/^\//, "")) ?? 0;
    assert.ok(expected > 0, `${href} has runnable examples`);
    await page.locator(".snippet button", { hasText: "Run" }).first().waitFor();
    assert.equal(await page.locator(".snippet").count(), expected, href);
    assert.equal(await page.locator(".snippet button", { hasText: "Run" }).count(), expected, href);
    total += expected;
  }
  assert.ok(total >= 20, `${total} runnable examples`);
  await context.close();
});

test("an example of the bundled site runs to ok in the page", async () => {
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/how-rundocs-runs`);
  const snippet = page.locator(".snippet").first();
  await snippet.getByRole("button", { name: "Run" }).click();
  await snippet.locator('.run-status[data-status="ok"]').waitFor({ timeout: 15_000 });
  assert.ok((await snippet.locator(".run-text").textContent()).length > 0);
  await context.close();
});
