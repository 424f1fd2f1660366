#!/usr/bin/env bash
# The load and soak benchmark (results go in BENCHMARKS.md, section "Load").
#
#   scripts/bench-load.sh            (from the repository root)
#
# 1. Load: wrk on a page for LOAD_SECONDS while STREAMS clients keep runs
#    streaming (each run prints a line every 0.1 s for 5 s; a client starts
#    its next run when one ends). Counts wrk's errors and non-2xx answers and
#    how each run ended.
# 2. Soak: SOAK_RUNS runs one after another, cycling through four kinds
#    (print, exception, a thread, sys.exit), sampling the server's RSS every
#    SAMPLE_EVERY runs: the curve, and its growth from the first sample after
#    warm-up to the last.
#
# Everything listens on 127.0.0.1 and is bounded in time and count. The
# script installs what it lacks on Debian (wrk, python3), builds the release
# binary under `nice` unless SKIP_BUILD=1, stops the server on exit, writes
# raw results to bench-results/load-<UTC timestamp>/ and prints a summary.
#
# Knobs (environment), defaults in brackets: LOAD_SECONDS [60], STREAMS [20],
# WRK_THREADS [2], WRK_CONNECTIONS [16], SOAK_RUNS [10000], SAMPLE_EVERY
# [500], SKIP_BUILD [0].
set -euo pipefail
cd "$(dirname "$0")/.."

LOAD_SECONDS=${LOAD_SECONDS:-60}
STREAMS=${STREAMS:-20}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
SOAK_RUNS=${SOAK_RUNS:-10000}
SAMPLE_EVERY=${SAMPLE_EVERY:-500}
SKIP_BUILD=${SKIP_BUILD:-0}

log() { echo "==> $*" >&2; }

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
    SUDO=$([[ $(id -u) == 0 ]] && echo "" || echo sudo)
    log "installing ${missing[*]}"
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ $SKIP_BUILD != 1 ]]; then
    log "building the release binary (nice cargo build --release)"
    nice cargo build --release --locked >&2
fi
BIN=$PWD/target/release/rundocs

RESULTS=$PWD/bench-results/load-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS"
TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# A realistic page (the bundled GIL article) and the runs the benchmark uses.
CONTENT=$TMP/content
mkdir -p "$CONTENT"
cp content/gil-in-one-page.md "$CONTENT/"
cat >"$CONTENT/index.md" <<'EOF'
# Load

```python name=stream timeout=30
import time
for i in range(50):
    print("tick", i, flush=True)
    time.sleep(0.1)
```

```python name=print
words = [str(i) for i in range(1000)]
print(len(words), sum(map(len, words)))
```

```python name=raise expect=error
def parse(text):
    return int(text)
parse("not a number")
```

```python name=thread
import threading
results = []
worker = threading.Thread(target=lambda: results.append(sum(range(10_000))))
worker.start()
worker.join()
print(results)
```

```python name=exit
import sys
sys.exit(3)
```
EOF

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log "starting rundocs on 127.0.0.1:$PORT"
RUNDOCS_LOG=warn \
RUNDOCS_RUN__WORKERS=$((STREAMS + 4)) \
RUNDOCS_RUN__QUEUE=$((STREAMS * 4)) \
RUNDOCS_RUN__RATE_LIMIT_PER_MINUTE=100000000 \
    "$BIN" --content "$CONTENT" --bind "127.0.0.1:$PORT" >"$RESULTS/server.stdout" 2>"$RESULTS/server.stderr" &
SERVER_PID=$!
for _ in $(seq 200); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz')" 2>/dev/null && break
    sleep 0.05
done

{
    echo "date_utc: $(date -u '+%Y-%m-%d %H:%M:%S')"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "kernel: $(uname -sr)"
    echo "rundocs: $("$BIN" --version)"
    echo "git: $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes')"
    echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RESULTS/machine.txt"

# The client side of the runs, in Python (standard library only).
cat >"$TMP/runs.py" <<'EOF'
import http.client, json, sys, threading, time

port, mode = int(sys.argv[1]), sys.argv[2]

def snippet_ids():
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/api/snippets")
    ids = {s["name"]: s["id"] for s in json.load(conn.getresponse()) if s.get("name")}
    conn.close()
    return ids

def run(conn, snippet_id):
    """One run over a kept-alive connection: (end status, stdout lines)."""
    conn.request("POST", f"/api/run/{snippet_id}")
    response = conn.getresponse()
    if response.status != 200:
        response.read()
        return f"http {response.status}", 0
    event, status, lines = None, None, 0
    while True:
        line = response.readline()
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "stdout":
            lines += json.loads(line[6:])["text"].count("\n")
        elif line.startswith("data: ") and event == "end":
            status = json.loads(line[6:])["status"]
    response.read()
    return status or "no end event", lines

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

ids = snippet_ids()
if mode == "stream":
    streams, seconds = int(sys.argv[3]), float(sys.argv[4])
    deadline = time.monotonic() + seconds
    outcomes, lock = {}, threading.Lock()
    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            status, lines = run(conn, ids["stream"])
            key = status if (status != "ok" or lines == 50) else "ok but lines missing"
            with lock:
                outcomes[key] = outcomes.get(key, 0) + 1
    threads = [threading.Thread(target=client) for _ in range(streams)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(json.dumps(outcomes))
elif mode == "soak":
    pid, runs, every = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    kinds = [("print", "ok"), ("raise", "error"), ("thread", "ok"), ("exit", "exit")]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    curve, unexpected, started = [(0, rss_kib(pid))], {}, time.monotonic()
    for n in range(1, runs + 1):
        name, expected = kinds[n % len(kinds)]
        status, _ = run(conn, ids[name])
        if status != expected:
            unexpected[f"{name}: {status}"] = unexpected.get(f"{name}: {status}", 0) + 1
        if n % every == 0:
            curve.append((n, rss_kib(pid)))
            print(f"{n} runs: RSS {curve[-1][1] / 1024:.1f} MiB", file=sys.stderr)
    print(json.dumps({"curve": curve, "unexpected": unexpected,
                      "seconds": time.monotonic() - started}))
EOF

log "load: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${LOAD_SECONDS}s on /gil-in-one-page while $STREAMS clients stream runs"
python3 "$TMP/runs.py" "$PORT" stream "$STREAMS" "$LOAD_SECONDS" >"$RESULTS/streams.json" &
STREAMS_PID=$!
sleep 1
wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${LOAD_SECONDS}s" --latency "http://127.0.0.1:$PORT/gil-in-one-page" >"$RESULTS/wrk.txt"
wait "$STREAMS_PID"

log "soak: $SOAK_RUNS runs one after another, RSS every $SAMPLE_EVERY"
python3 "$TMP/runs.py" "$PORT" soak "$SERVER_PID" "$SOAK_RUNS" "$SAMPLE_EVERY" >"$RESULTS/soak.json"
echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/machine.txt"

python3 - "$RESULTS" <<'EOF' | tee "$RESULTS/summary.txt"
import json, re, sys
results = sys.argv[1]
machine = open(f"{results}/machine.txt").read().strip()
wrk = open(f"{results}/wrk.txt").read()
requests = re.search(r"(\d+) requests in", wrk).group(1)
rps = re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1)
p99 = re.search(r"99%\s+(\S+)", wrk).group(1)
errors = re.search(r"Socket errors: (.*)", wrk)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
streams = json.load(open(f"{results}/streams.json"))
soak = json.load(open(f"{results}/soak.json"))
curve = soak["curve"]
warm = curve[2] if len(curve) > 2 else curve[0]
print(machine)
print(f"\nLoad: {requests} page requests, {rps} req/s, p99 {p99}; "
      f"socket errors: {errors.group(1) if errors else 'none'}; non-2xx: {non2xx.group(1) if non2xx else 0}")
print(f"  runs streaming meanwhile, by outcome: {streams}")
print(f"\nSoak: {curve[-1][0]} runs in {soak['seconds']:.1f} s; unexpected outcomes: {soak['unexpected'] or 'none'}")
print("  RSS curve (runs: MiB): " + ", ".join(f"{n}: {kib / 1024:.1f}" for n, kib in curve))
print(f"  growth from {warm[0]} runs to {curve[-1][0]}: {(curve[-1][1] - warm[1]) / 1024:+.1f} MiB")
print(f"\nraw results: {results}")
EOF
