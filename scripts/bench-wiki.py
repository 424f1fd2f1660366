#!/usr/bin/env python3
"""The wiki benchmark (results go in BENCHMARKS.md, section "Wiki").

    scripts/bench-wiki.py [--pages 1000 10000] [--saves 40] [--commits 1000]
                          [--check-on-save warn|block|off]

For each site size: generates the pages (scripts/gen-pages.py), makes the
folder a git repository, starts the release binary with editing open on a
free loopback port, then saves one page SAVES times (a line appended; the
page has Python examples, which wiki.check_on_save runs in a sandboxed
process before each save unless it is off) and measures save -> visible: from sending PUT /_rundocs/api/page until GET of
the page shows the new line. A pause after each save lets the search index
of the last build finish, as between two people's saves. Then, on the
smallest site, gives one page COMMITS commits (with git itself) and times
GET /_rundocs/api/history for that page (all of them) and for the site.

Everything listens on 127.0.0.1; the servers are stopped on exit. Needs the
release binary (cargo build --release) and git.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.path.join(TARGET, "release", "rundocs")
PAGE = "section-01/page-050"


def git(folder, *args):
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def make_site(folder, pages):
    subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "gen-pages.py"), folder, "--pages", str(pages)],
        check=True,
        capture_output=True,
    )
    git(folder, "init", "--quiet")
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "--quiet", "-m", "Start")


class Server:
    def __init__(self, content, check_on_save):
        env = dict(
            os.environ,
            RUNDOCS_ACCESS__EDIT="open",
            RUNDOCS_WIKI__CHECK_ON_SAVE=check_on_save,
            RUNDOCS_LOG="warn",
        )
        env.pop("RUNDOCS_BIN", None)
        self.process = subprocess.Popen(
            [BINARY, "serve", "--content", content, "--bind", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        started = time.monotonic()
        for line in self.process.stdout:
            match = re.search(r"serving on (http://\S+)", line)
            if match:
                self.base = match.group(1)
                self.ready_s = time.monotonic() - started
                return
        raise SystemExit("rundocs did not start")

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def save_to_visible(server, saves):
    page = json.loads(server.request("GET", f"/_rundocs/api/page?path={PAGE}"))
    revision, source = page["revision"], page["source"]
    times = []
    for i in range(saves):
        marker = f"saved-{i}-{time.time_ns()}"
        started = time.perf_counter()
        saved = json.loads(
            server.request(
                "PUT",
                f"/_rundocs/api/page?path={PAGE}",
                {"source": source + f"\n\n{marker}\n", "base": revision, "message": f"Save {i}"},
            )
        )
        while marker not in server.request("GET", f"/{PAGE}").decode():
            pass
        times.append((time.perf_counter() - started) * 1000)
        revision = saved["revision"]
        time.sleep(0.5)
    return times


def history_timing(folder, server, commits):
    file = os.path.join(folder, PAGE + ".md")
    with open(file) as f:
        original = f.read()
    for i in range(commits):
        with open(file, "w") as f:
            f.write(original + f"\n\nline {i}\n")
        git(folder, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "--quiet", "-am", f"Commit {i}")
    timings = {}
    for name, path in [
        ("page", f"/_rundocs/api/history?path={PAGE}&limit=1000"),
        ("site", "/_rundocs/api/history?limit=1000"),
    ]:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            entries = json.loads(server.request("GET", path))
            runs.append((time.perf_counter() - started) * 1000)
        timings[name] = (len(entries), statistics.median(runs))
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument(
        "--check-on-save",
        choices=["warn", "block", "off"],
        default="warn",
        help="wiki.check_on_save: whether each save first runs the page's examples",
    )
    args = parser.parse_args()
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"no release binary at {BINARY}; run cargo build --release")
    print(f"machine: {os.cpu_count()} CPUs, {os.uname().sysname} {os.uname().release}")
    print(f"rundocs: {subprocess.run([BINARY, '--version'], capture_output=True, text=True).stdout.strip()}")
    for pages in args.pages:
        workdir = tempfile.mkdtemp(prefix="rundocs-bench-wiki-")
        try:
            folder = os.path.join(workdir, "wiki")
            make_site(folder, pages)
            server = Server(folder, args.check_on_save)
            try:
                times = save_to_visible(server, args.saves)
                print(
                    f"{pages} pages, check_on_save={args.check_on_save}: start {server.ready_s * 1000:.0f} ms; save -> visible over {len(times)} saves: "
                    f"p50 {percentile(times, 50):.0f} ms, p99 {percentile(times, 99):.0f} ms, "
                    f"min {min(times):.0f} ms, max {max(times):.0f} ms"
                )
                if pages == min(args.pages) and args.commits:
                    timings = history_timing(folder, server, args.commits)
                    for name, (count, median) in timings.items():
                        print(f"  history ({name}, {count} entries, {args.commits} commits on one page): median {median:.0f} ms")
            finally:
                server.stop()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
