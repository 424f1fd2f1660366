// Benchmark: from a click on Run to a drawn matplotlib figure in Chromium,
// in thread mode and in process mode, against python3 drawing the same
// figure into a PNG file; and what showing a figure adds to a run.
//
//   RUNDOCS_BIN=target/release/rundocs node tests/browser/bench-figure.mjs [runs]
//
// (from the repository root; `npm run bench:figure` in tests/browser). The
// virtualenv with matplotlib is the one the Rust tests make
// (target/tmp/venv-rich).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchBrowser, repo, startServer } from "./harness.mjs";

const runs = Number(process.argv[2] ?? 40);
const venv = join(process.env.CARGO_TARGET_DIR || join(repo, "target"), "tmp", "venv-rich");
if (!existsSync(join(venv, "rundocs-complete"))) {
  throw new Error(`no virtualenv with matplotlib at ${venv}: run the Rust tests first`);
}

const PLOT = `import matplotlib.pyplot as plt
plt.plot([1, 3, 2, 4])
plt.title("small line plot")`;

const content = mkdtempSync(join(tmpdir(), "rundocs-bench-figure-"));
writeFileSync(
  join(content, "figure.md"),
  "# Figure\n\n```python\n" + PLOT + "\nplt.show()\n```\n\n```python\n" + PLOT + "\nplt.close()\n```\n",
);

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const summary = (values) => `p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms`;

async function clickToFigure(chrome, base) {
  const context = await chrome.browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.on("crash", () => console.error("the page crashed"));
  page.on("pageerror", (error) => console.error("page error:", error.message));
  await page.goto(`${base}/figure`);
  const snippet = page.locator(".snippet").first();
  const button = snippet.getByRole("button", { name: "Run" });
  const times = [];
  for (let i = 0; i < runs + 3; i++) {
    await button.waitFor();
    // Time inside the page: from the click's dispatch to the decoded image.
    const elapsed = await snippet.evaluate(
      (element) =>
        new Promise((resolve) => {
          const start = performance.now();
          const observer = new MutationObserver(() => {
            const img = element.querySelector(".run-display img");
            if (!img) return;
            observer.disconnect();
            img.decode().then(() => resolve(performance.now() - start));
          });
          observer.observe(element, { subtree: true, childList: true });
          element.querySelector(".run-button").click();
        }),
    );
    await snippet.locator('.run-status[data-status="ok"]').waitFor();
    if (i >= 3) times.push(elapsed);
  }
  await context.close();
  return times;
}

async function runDurations(base, index) {
  const snippets = await (await fetch(`${base}/api/snippets?page=figure`)).json();
  const id = snippets[index].id;
  const durations = [];
  for (let i = 0; i < runs + 3; i++) {
    const text = await (await fetch(`${base}/api/run/${id}`, { method: "POST" })).text();
    const end = JSON.parse(text.split("event: end\ndata: ")[1].split("\n")[0]);
    if (end.status !== "ok") throw new Error(text.slice(0, 500));
    if (i >= 3) durations.push(end.duration_ms);
  }
  return durations;
}

function python3Png() {
  const python = join(venv, "bin", "python");
  const out = join(content, "figure.png");
  const code = `import matplotlib\nmatplotlib.use("Agg")\n${PLOT}\nplt.savefig(${JSON.stringify(out)}, dpi=200, bbox_inches="tight")`;
  const times = [];
  for (let i = 0; i < Math.min(runs, 15); i++) {
    const start = performance.now();
    const result = spawnSync(python, ["-c", code]);
    if (result.status !== 0) throw new Error(String(result.stderr));
    times.push(performance.now() - start);
  }
  return times;
}

const chrome = await launchBrowser();
try {
  console.log(`click to drawn figure (${runs} runs each, after 3 warm-up runs):`);
  for (const isolation of ["thread", "process"]) {
    const config = join(content, `rundocs-${isolation}.toml`);
    writeFileSync(
      config,
      `[python]\nvenv = "${venv}"\n\n[run]\nisolation = "${isolation}"\nrate_limit_per_minute = 100000\n`,
    );
    const server = await startServer(["serve", "--content", content, "--config", config]);
    try {
      console.log(`  ${isolation} mode: ${summary(await clickToFigure(chrome, server.base))}`);
      const shown = await runDurations(server.base, 0);
      const closed = await runDurations(server.base, 1);
      console.log(
        `  ${isolation} mode, whole run: plot + plt.show() ${summary(shown)}; plot + plt.close() ${summary(closed)}; ` +
          `showing adds ${(percentile(shown, 50) - percentile(closed, 50)).toFixed(1)} ms at p50`,
      );
    } finally {
      await server.close();
    }
  }
  console.log(`  python3 -c drawing the same PNG (venv python, new process each): ${summary(python3Png())}`);
} finally {
  await chrome.close();
  rmSync(content, { recursive: true, force: true });
}
