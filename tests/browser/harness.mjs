// Starting rundocs and Chromium for a browser test.
//
// The server is the real binary (RUNDOCS_BIN, default target/debug/rundocs)
// on 127.0.0.1 with a free port; Chromium is Debian's /usr/bin/chromium.
// Both are stopped by the returned close().
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

export const repo = resolve(import.meta.dirname, "../..");
const binary = process.env.RUNDOCS_BIN ?? join(repo, "target/debug/rundocs");

/** Copies a fixture folder to a fresh temp dir (tests may edit it). */
export function copyFixture(name) {
  const dir = mkdtempSync(join(tmpdir(), "rundocs-browser-"));
  cpSync(join(repo, "tests/fixtures", name), dir, { recursive: true });
  return dir;
}

/**
 * Copies a fixture folder as copyFixture does and makes the copy a git
 * repository whose first commit holds its files: the wiki keeps every edit
 * as a commit, and refuses to start on a folder outside git.
 */
export function copyFixtureAsRepository(name) {
  const dir = copyFixture(name);
  const who = { GIT_AUTHOR_NAME: "fixture", GIT_AUTHOR_EMAIL: "fixture@rundocs.invalid" };
  const env = { ...process.env, ...who, GIT_COMMITTER_NAME: who.GIT_AUTHOR_NAME, GIT_COMMITTER_EMAIL: who.GIT_AUTHOR_EMAIL };
  const git = (...args) => execFileSync("git", args, { cwd: dir, env, stdio: ["ignore", "ignore", "inherit"] });
  git("init", "--quiet", "--initial-branch=main");
  git("add", "--all");
  git("commit", "--quiet", "--message", "Start the site");
  return dir;
}

/** Starts rundocs with `args`; resolves to { base, close }. */
export async function startServer(args) {
  const child = spawn(binary, [...args, "--bind", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
    // RUNDOCS_BIN names the binary for this harness; the server would warn
    // about it as an unknown setting.
    env: { ...process.env, RUNDOCS_BIN: undefined, RUNDOCS_LOG: "warn" },
  });
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error("rundocs did not start in 30 s")), 30_000);
    child.once("exit", (code) => reject(new Error(`rundocs exited with ${code}`)));
    lines.on("line", (line) => {
      const match = line.match(/serving on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    });
  });
  return {
    base,
    close: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", done);
        child.kill("SIGTERM");
      }),
  };
}

/** Launches headless Chromium with the flags this machine's closed network needs. */
export async function launchBrowser() {
  // playwright gives each launch a fresh, empty profile of its own.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return { browser, close: () => browser.close() };
}
