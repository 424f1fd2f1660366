// Rich output in a real browser: a matplotlib figure drawn in order with the
// text and opened full size, a DataFrame as a table, and hostile HTML shown
// clean with the page's CSP intact; in thread mode and in process mode.
//
// matplotlib and pandas come from the virtualenv the Rust tests make
// (target/tmp/venv-rich; `scripts/test` runs those first).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyFixture, launchBrowser, repo, startServer } from "./harness.mjs";

const venv = join(process.env.CARGO_TARGET_DIR || join(repo, "target"), "tmp", "venv-rich");

let chrome;
let content;
const servers = {};

before(async () => {
  assert.ok(
    existsSync(join(venv, "rundocs-complete")),
    `no virtualenv with matplotlib at ${venv}: the Rust tests make it (cargo nextest run display)`,
  );
  content = copyFixture("display");
  for (const isolation of ["thread", "process"]) {
    const config = join(content, `rundocs-${isolation}.toml`);
    writeFileSync(config, `[python]\nvenv = "${venv}"\n\n[run]\nisolation = "${isolation}"\n`);
    servers[isolation] = await startServer(["serve", "--content", content, "--config", config]);
  }
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  for (const server of Object.values(servers)) await server.close();
  rmSync(content, { recursive: true, force: true });
});

async function open(isolation) {
  const context = await chrome.browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.violations = [];
    document.addEventListener("securitypolicyviolation", (event) => window.violations.push(event.violatedDirective));
  });
  await page.goto(`${servers[isolation].base}/display`);
  return { page, context };
}

const block = (page, text) => page.locator(".snippet", { has: page.locator("pre.code", { hasText: text }) });

async function run(snippet) {
  await snippet.getByRole("button", { name: "Run" }).click();
  await snippet.locator('.run-status[data-status="ok"]').waitFor({ timeout: 30_000 });
}

for (const isolation of ["thread", "process"]) {
  test(`${isolation} mode: a figure shows between the text printed before and after it, and opens full size`, async () => {
    const { page, context } = await open(isolation);
    const snippet = block(page, 'print("before")');
    await run(snippet);
    const parts = await snippet.locator(".run-text > *").evaluateAll((nodes) =>
      nodes.map((node) => (node.matches(".run-display") ? "figure" : node.textContent)),
    );
    assert.deepEqual(parts, ["before\n", "figure", "after\n"]);
    const image = snippet.locator(".run-display img.run-image");
    assert.equal(await image.getAttribute("alt"), "<Figure size 640x480 with 1 Axes>");
    const drawn = await image.evaluate((img) => ({ natural: img.naturalWidth, shown: img.getBoundingClientRect().width }));
    assert.ok(drawn.natural > 0, "the PNG decoded");
    assert.ok(drawn.natural >= 1.5 * drawn.shown, `drawn at high DPI: ${JSON.stringify(drawn)}`);
    await image.click();
    const full = page.locator("dialog.run-lightbox img");
    await full.waitFor();
    const fullWidth = await full.evaluate((img) => img.getBoundingClientRect().width);
    assert.ok(fullWidth > drawn.shown, `full size ${fullWidth} > ${drawn.shown}`);
    await page.keyboard.press("Escape");
    await page.locator("dialog.run-lightbox").waitFor({ state: "detached" });
    assert.deepEqual(await page.evaluate(() => window.violations), []);
    await context.close();
  });

  test(`${isolation} mode: a DataFrame is a table, and hostile HTML arrives inert`, async () => {
    const { page, context } = await open(isolation);
    const table = block(page, "pd.DataFrame");
    await run(table);
    assert.deepEqual(await table.locator(".run-html td").allTextContents(), ["1", "3.5", "2", "4.5"]);
    const hostile = block(page, "class Page");
    await run(hostile);
    const shown = hostile.locator(".run-html");
    assert.equal(await shown.locator("b").textContent(), "kept");
    assert.equal(await shown.locator("script, style, iframe, [onerror], [onload]").count(), 0);
    assert.equal(await shown.locator('img[src^="http"], a[href^="javascript"]').count(), 0);
    assert.equal(await page.evaluate(() => window.violations.length), 0);
    await context.close();
  });
}
