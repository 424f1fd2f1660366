// Pages written for mkdocs in a real browser: content tabs switch with
// JavaScript off, a collapsed admonition opens, code inside a tab runs, and
// a block with numbered and highlighted lines runs and edits as its code
// alone. The server lets readers run edited code (run.edit = "open").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyFixture, launchBrowser, startServer } from "./harness.mjs";

let server;
let chrome;
let content;

before(async () => {
  content = copyFixture("foreign-fences");
  writeFileSync(
    join(content, "numbered.md"),
    '# Numbered\n\n```python linenums="5" hl_lines="1"\nx = 1\nraise ValueError("on the second line")\n```\n',
  );
  process.env.RUNDOCS_RUN__EDIT = "open";
  try {
    server = await startServer(["serve", "--content", content]);
  } finally {
    delete process.env.RUNDOCS_RUN__EDIT;
  }
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

test("numbered, highlighted lines: one line each, never selected or edited, and the block runs", async () => {
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  const code = 'name = "reader"\nprint(f"hello, {name}")';
  const snippet = page.locator(".snippet", { has: page.locator("pre.code", { hasText: "hello, {name}" }) });
  const lines = snippet.locator("code.linenums > .code-line");
  assert.deepEqual(await lines.evaluateAll((all) => all.map((l) => l.dataset.line)), ["1", "2"]);
  const shown = await lines.evaluateAll((all) =>
    all.map((line) => ({
      number: getComputedStyle(line, "::before").content,
      height: line.getBoundingClientRect().height,
      lit: getComputedStyle(line).backgroundColor !== "rgba(0, 0, 0, 0)",
    })),
  );
  assert.ok(shown.every((line) => line.number !== "none" && line.number !== "normal"), JSON.stringify(shown));
  assert.deepEqual(shown.map((line) => line.lit), [false, true], "hl_lines=\"2\" lights the second line");
  assert.ok(Math.abs(shown[0].height - shown[1].height) < 1 && shown[0].height < 40, "one line each");
  const selected = await snippet.locator("pre.code code").evaluate((element) => {
    getSelection().selectAllChildren(element);
    return getSelection().toString();
  });
  assert.equal(selected.replace(/\n$/, ""), code, "selecting the code takes no line numbers");

  await snippet.getByRole("button", { name: "Run" }).click();
  await snippet.locator('.run-status[data-status="ok"]').waitFor({ timeout: 15_000 });
  assert.equal(await snippet.locator(".run-text").textContent(), "hello, reader\n");

  await snippet.getByRole("button", { name: "Edit" }).click();
  const editor = snippet.getByRole("textbox", { name: /Python code of this example/ });
  await editor.waitFor();
  assert.equal((await editor.locator(".cm-line").allTextContents()).join("\n"), code);
  await editor.locator(".cm-line").first().click();
  await page.keyboard.press("End");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.type(" and editor");
  await snippet.getByRole("button", { name: "Run" }).click();
  await snippet.locator('.run-status[data-status="ok"]').waitFor({ timeout: 20_000 });
  assert.equal(await snippet.locator(".run-text").textContent(), "hello, reader and editor\n");
  await context.close();
});

test("an error marks its line among numbered lines", async () => {
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/numbered`);
  const snippet = page.locator(".snippet");
  await snippet.getByRole("button", { name: "Run" }).click();
  await snippet.locator('.run-status[data-status="error"]').waitFor({ timeout: 15_000 });
  const lines = snippet.locator("code.linenums > .code-line");
  assert.equal(await lines.count(), 2, "the server's lines are used, not cut again");
  const marked = snippet.locator(".code-line-error");
  assert.equal(await marked.count(), 1);
  assert.equal(await marked.getAttribute("data-line"), "6");
  assert.match(await marked.getAttribute("title"), /ValueError: on the second line/);
  await context.close();
});
