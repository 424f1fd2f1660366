// Interpreter sessions in a real browser: prompts shown apart from the
// statements and their output, and Run showing the session's transcript.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, repo, startServer } from "./harness.mjs";
import { join } from "node:path";

let server;
let chrome;

before(async () => {
  server = await startServer(["serve", "--content", join(repo, "tests/fixtures/pycon")]);
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
});

/** The runnable block whose code contains `text`. */
const block = (page, text) => page.locator(".snippet", { has: page.locator("pre.code", { hasText: text }) });

test("a session shows its prompts apart, and Run shows its transcript, tracebacks included", async () => {
  const context = await chrome.browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/sessions`);
  const basics = block(page, "x = 40");
  const prompt = basics.locator("code .hl-p").first();
  assert.equal(await prompt.textContent(), ">>> ");
  const colour = (locator) => locator.evaluate((element) => getComputedStyle(element).color);
  assert.notEqual(await colour(prompt), await colour(basics.locator("code")), "prompts are coloured apart");

  await basics.getByRole("button", { name: "Run" }).click();
  await basics.locator('.run-status[data-status="ok"]').waitFor({ timeout: 15_000 });
  assert.equal(
    await basics.locator(".run-text").textContent(),
    ">>> x = 40\n>>> x + 2\n42\n>>> for i in range(2):\n...     print(i)\n... \n0\n1\n>>> _\n42\n" +
      ">>> 'a\\tb'\n'a\\tb'\n>>> None\n>>> # a comment prints nothing\n>>> print(\"done\")\ndone\n",
  );

  const raises = block(page, "def divide");
  await raises.getByRole("button", { name: "Run" }).click();
  await raises.locator('.run-status[data-status="ok"]').waitFor({ timeout: 15_000 });
  const transcript = await raises.locator(".run-text").textContent();
  assert.ok(
    transcript.includes("ZeroDivisionError: division by zero\n>>> print(\"still here\")\nstill here\n>>> 1 +\n"),
    transcript,
  );
  await context.close();
});
