#!/usr/bin/env bash
# The site benchmark: page throughput/latency of rundocs against nginx serving
# the same bytes, and start-up time / idle RSS for a generated 1,000-page site.
#
#   scripts/bench-site.sh            (from the repository root)
#
# Everything runs on 127.0.0.1 and every load run is bounded in time. The
# script installs what it lacks on Debian (nginx, wrk, curl, python3), builds
# the release binary under `nice`, starts its own servers (stopped on exit),
# writes raw results to bench-results/site-<timestamp>/ and prints a summary.
#
# Knobs (environment): THREADS=2 CONNECTIONS=32 DURATION=15s WARMUP=3s
# ROUNDS=3 (alternating rundocs/nginx), PAGE=/getting-started,
# NGINX_WORKERS=2, NGINX_EXTRA='' (more http-level nginx directives, e.g.
# 'open_file_cache max=16;'), PAGES=1000 (generated site), STARTUP_RUNS=9,
# SKIP_BUILD=1 (use the existing target/release/rundocs).
set -euo pipefail

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
ROUNDS=${ROUNDS:-3}
PAGE=${PAGE:-/getting-started}
NGINX_WORKERS=${NGINX_WORKERS:-2}
NGINX_EXTRA=${NGINX_EXTRA:-}
PAGES=${PAGES:-1000}
STARTUP_RUNS=${STARTUP_RUNS:-9}
SKIP_BUILD=${SKIP_BUILD:-0}

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/rundocs
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$ROOT/bench-results/site-$STAMP
mkdir -p "$RESULTS"
TMP=$(mktemp -d /tmp/rundocs-bench.XXXXXX)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- cleanup: stop every server this script started, by PID -----------------
PIDS=()
POLICY_RC_CREATED=0
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ $POLICY_RC_CREATED == 1 ]]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ------------------------------------------------------------------
SUDO=""
if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
missing=()
[[ -x $NGINX ]] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    # Keep the package from starting a system-wide nginx on port 80.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    $SUDO apt-get update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi

# --- build ------------------------------------------------------------------
if [[ $SKIP_BUILD != 1 ]]; then
    log "building the release binary (nice cargo build --release)"
    nice -n 10 cargo build --release >&2
fi
[[ -x $BIN ]] || die "no binary at $BIN"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Sum of utime+stime (clock ticks) of the given PIDs.
cpu_ticks() {
    local total=0 pid stat
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        stat=${stat##*) }   # drop "pid (comm) "
        read -r -a f <<<"$stat"
        total=$((total + f[11] + f[12]))   # fields 14 and 15 of the full line
    done
    echo "$total"
}

# PIDs whose parent is $1 (from /proc, so procps is not needed).
children_of() {
    local stat pid rest
    for stat in /proc/[0-9]*/stat; do
        pid=${stat#/proc/}; pid=${pid%/stat}
        rest=$(cat "$stat" 2>/dev/null) || continue
        rest=${rest##*) }
        read -r -a f <<<"$rest"
        [[ ${f[1]} == "$1" ]] && printf '%s ' "$pid"
    done
    return 0
}

rss_kb() {
    local total=0 pid kb
    for pid in "$@"; do
        kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

# --- machine ------------------------------------------------------------------
{
    echo "date_utc: $(date -u '+%Y-%m-%d %H:%M:%S')"
    echo "nproc: $(nproc)"
    echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "mem: $(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
    echo "kernel: $(uname -srm)"
    echo "rustc: $(rustc --version 2>/dev/null || echo unknown)"
    echo "nginx: $($NGINX -v 2>&1 | sed 's/^nginx version: //')"
    echo "wrk: $(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}')"
    echo "rundocs: $("$BIN" --version 2>/dev/null | head -n1)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty tree)')"
    echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RESULTS/machine.txt"
cat "$RESULTS/machine.txt" >&2
busy=$(awk '{print ($1 > 0.5)}' /proc/loadavg)
if [[ $busy == 1 ]]; then
    log "warning: load average is $(cut -d' ' -f1 /proc/loadavg): other work shares the CPUs and will skew the numbers"
fi

# --- 1. page throughput: rundocs vs nginx, same bytes ----------------------------
log "starting rundocs (bundled site)"
RUNDOCS_LOG=warn NO_COLOR=1 "$BIN" --bind 127.0.0.1:0 >"$TMP/rundocs.out" 2>"$RESULTS/rundocs-bundled.stderr" &
RUNDOCS_PID=$!
PIDS+=("$RUNDOCS_PID")
for _ in $(seq 300); do
    grep -q 'rundocs is serving on http://' "$TMP/rundocs.out" 2>/dev/null && break
    kill -0 "$RUNDOCS_PID" 2>/dev/null || die "rundocs exited; see $RESULTS/rundocs-bundled.stderr"
    sleep 0.1
done
RUNDOCS_ADDR=$(sed -n 's|.*rundocs is serving on http://\([^ ]*\).*|\1|p' "$TMP/rundocs.out" | head -n1)
[[ -n $RUNDOCS_ADDR ]] || die "rundocs did not say where it listens"
RUNDOCS_URL="http://$RUNDOCS_ADDR$PAGE"

HTML_ROOT=$TMP/html
mkdir -p "$HTML_ROOT/$(dirname "${PAGE#/}")"
code=$(curl -sS -o "$HTML_ROOT/${PAGE#/}" -D "$RESULTS/headers-rundocs.txt" -w '%{http_code}' "$RUNDOCS_URL")
[[ $code == 200 ]] || die "GET $RUNDOCS_URL answered $code; pick a PAGE from curl -s http://$RUNDOCS_ADDR/api/snippets"
if grep -qi '^content-encoding:' "$RESULTS/headers-rundocs.txt"; then
    die "rundocs compressed a response to a request without Accept-Encoding"
fi
BODY_BYTES=$(stat -c %s "$HTML_ROOT/${PAGE#/}")
cp "$HTML_ROOT/${PAGE#/}" "$RESULTS/page.html"

NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
# Minimal static server for the comparison; written by scripts/bench-site.sh.
worker_processes $NGINX_WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;   # like actix: never close a keep-alive connection for its count
    gzip off;                     # wrk sends no Accept-Encoding anyway
    types { }
    default_type text/html;
    charset utf-8;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    $NGINX_EXTRA
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $HTML_ROOT;
        # The headers rundocs adds, so both responses are about the same size.
        add_header Cache-Control no-cache;
        add_header X-Content-Type-Options nosniff;
        add_header Referrer-Policy same-origin;
    }
}
EOF
cp "$TMP/nginx/nginx.conf" "$RESULTS/nginx.conf"
# nginx workers may run as an unprivileged user: let them read the files.
chmod 755 "$TMP" "$TMP/nginx"
chmod -R a+rX "$HTML_ROOT"
log "starting nginx on 127.0.0.1:$NGINX_PORT ($NGINX_WORKERS workers)"
"$NGINX" -p "$TMP/nginx/" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
NGINX_URL="http://127.0.0.1:$NGINX_PORT$PAGE"
for _ in $(seq 100); do
    curl -s -o /dev/null "$NGINX_URL" && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$TMP/nginx/error.log")"
    sleep 0.1
done
curl -sS -o "$TMP/from-nginx.html" -D "$RESULTS/headers-nginx.txt" "$NGINX_URL"
cmp -s "$TMP/from-nginx.html" "$HTML_ROOT/${PAGE#/}" || die "nginx does not serve the same bytes as rundocs"
if grep -qi '^content-encoding:' "$RESULTS/headers-nginx.txt"; then die "nginx compressed the response"; fi
NGINX_WORKER_PIDS=$(children_of "$NGINX_PID")
HDR_RUNDOCS=$(( $(stat -c %s "$RESULTS/headers-rundocs.txt") ))
HDR_NGINX=$(( $(stat -c %s "$RESULTS/headers-nginx.txt") ))
log "page $PAGE: $BODY_BYTES bytes of body; headers $HDR_RUNDOCS B (rundocs) / $HDR_NGINX B (nginx)"

cat >"$TMP/stats.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

TSV=$RESULTS/wrk.tsv
printf 'server\tround\trps\tp50_us\tp90_us\tp99_us\tmax_us\terrors\tserver_cpu_s\twrk_cpu_s\n' >"$TSV"
CLK_TCK=$(getconf CLK_TCK)
run_wrk() { # name url round
    local name=$1 url=$2 round=$3 out=$RESULTS/wrk-$1-$3.txt before after pids
    if [[ $name == rundocs ]]; then pids=$RUNDOCS_PID; else pids="$NGINX_PID $NGINX_WORKER_PIDS"; fi
    # shellcheck disable=SC2086
    before=$(cpu_ticks $pids)
    local TIMEFORMAT='%U %S'
    { time wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency -s "$TMP/stats.lua" "$url" >"$out" ; } 2>"$TMP/time.txt"
    # shellcheck disable=SC2086
    after=$(cpu_ticks $pids)
    python3 - "$out" "$TMP/time.txt" "$name" "$round" "$before" "$after" "$CLK_TCK" >>"$TSV" <<'EOF'
import re, sys
out, timefile, name, rnd, before, after, tck = sys.argv[1:]
line = next(l for l in open(out) if l.startswith("BENCH "))
v = {k: int(float(x)) for k, x in re.findall(r"(\w+)=([\d.]+)", line)}
user, sys_ = map(float, open(timefile).read().split()[-2:])
rps = v["requests"] / (v["duration_us"] / 1e6)
print(f"{name}\t{rnd}\t{rps:.0f}\t{v['p50_us']}\t{v['p90_us']}\t{v['p99_us']}\t{v['max_us']}\t{v['errors']}"
      f"\t{(int(after) - int(before)) / int(tck):.2f}\t{user + sys_:.2f}")
EOF
    tail -n1 "$TSV" >&2
}

log "warm-up ($WARMUP each)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$RUNDOCS_URL" >"$RESULTS/warmup-rundocs.txt"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$NGINX_URL" >"$RESULTS/warmup-nginx.txt"
log "measuring: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, alternating"
for round in $(seq "$ROUNDS"); do
    if ((round % 2)); then order="rundocs nginx"; else order="nginx rundocs"; fi
    for name in $order; do
        if [[ $name == rundocs ]]; then run_wrk rundocs "$RUNDOCS_URL" "$round"; else run_wrk nginx "$NGINX_URL" "$round"; fi
        sleep 1
    done
done
# shellcheck disable=SC2086
echo "rundocs_rss_kb_after_load=$(rss_kb "$RUNDOCS_PID")" >"$RESULTS/rss-after-load.txt"
# shellcheck disable=SC2086
echo "nginx_rss_kb_after_load=$(rss_kb $NGINX_PID $NGINX_WORKER_PIDS)" >>"$RESULTS/rss-after-load.txt"
for pid in "$RUNDOCS_PID" "$NGINX_PID"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
PIDS=()

# --- 2. start-up time and idle RSS, generated site -------------------------------
log "generating $PAGES pages"
python3 scripts/gen-pages.py "$TMP/site/content" --pages "$PAGES" | tee "$RESULTS/generated.txt" >&2
log "start-up: $STARTUP_RUNS runs until GET /healthz answers 200"
python3 - "$BIN" "$TMP/site/content" "$TMP/site/content.urls" "$STARTUP_RUNS" "$RESULTS/startup.json" <<'EOF'
import http.client, json, os, re, signal, socket, subprocess, sys, time

binary, content, urls_file, runs, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
urls = [u.strip() for u in open(urls_file) if u.strip()]

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def status_kb(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            fields[key] = int(value.split()[0])
    return fields

def get(conn, path):
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    return response.status, len(body)

results = []
for run in range(runs):
    port = free_port()
    env = dict(os.environ, RUNDOCS_LOG="warn,rundocs=info", NO_COLOR="1")
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "--content", content, "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        ready = None
        while time.perf_counter() - started < 30:
            if proc.poll() is not None:
                sys.exit(f"rundocs exited with {proc.returncode}: {proc.stderr.read().decode()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    ready = time.perf_counter() - started
                    break
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.001)
        if ready is None:
            sys.exit("rundocs did not answer /healthz within 30 s")
        time.sleep(1.0)
        idle = status_kb(proc.pid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        served = 0
        biggest = 0
        fetch_started = time.perf_counter()
        for url in urls:
            status, size = get(conn, url)
            if status != 200:
                sys.exit(f"GET {url} answered {status}")
            served += size
            biggest = max(biggest, size)
        fetch_s = time.perf_counter() - fetch_started
        conn.close()
        time.sleep(1.0)
        after = status_kb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    stderr = re.sub(r"\x1b\[[0-9;]*m", "", proc.stderr.read().decode(errors="replace"))
    match = re.search(r"content loaded.*?pages\W*(\d+).*?elapsed_ms\W*([\d.]+)", stderr)
    results.append({
        "ready_s": ready,
        "snapshot_ms": float(match.group(2)) if match else None,
        "pages": int(match.group(1)) if match else None,
        "idle_rss_kb": idle["VmRSS"],
        "peak_rss_kb": after["VmHWM"],
        "threads": idle["Threads"],
        "rss_after_serving_all_kb": after["VmRSS"],
        "served_bytes": served,
        "largest_page_bytes": biggest,
        "serve_all_s": fetch_s,
    })
    r = results[-1]
    print(f"run {run + 1}: ready in {ready * 1e3:.0f} ms (snapshot {r['snapshot_ms']} ms), idle RSS "
          f"{r['idle_rss_kb'] / 1024:.1f} MiB, after serving {len(urls)} pages {r['rss_after_serving_all_kb'] / 1024:.1f} MiB, "
          f"peak {r['peak_rss_kb'] / 1024:.1f} MiB", file=sys.stderr)
json.dump({"pages": len(urls), "runs": results}, open(out, "w"), indent=1)
EOF

echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/machine.txt"

# --- summary --------------------------------------------------------------------
python3 - "$RESULTS" "$BODY_BYTES" "$HDR_RUNDOCS" "$HDR_NGINX" "$THREADS" "$CONNECTIONS" "$DURATION" "$NGINX_WORKERS" <<'EOF' | tee "$RESULTS/summary.txt"
import csv, json, statistics, sys
results, body, hdr_r, hdr_n, threads, conns, duration, workers = sys.argv[1:]
rows = list(csv.DictReader(open(f"{results}/wrk.tsv"), delimiter="\t"))
def med(name, key):
    return statistics.median(float(r[key]) for r in rows if r["server"] == name)
def each(name, key, fmt="{:.0f}"):
    return ", ".join(fmt.format(float(r[key])) for r in rows if r["server"] == name)
machine = dict(line.rstrip("\n").split(": ", 1) for line in open(f"{results}/machine.txt"))
s = json.load(open(f"{results}/startup.json"))
ready = sorted(r["ready_s"] * 1e3 for r in s["runs"])
snap = sorted(r["snapshot_ms"] for r in s["runs"] if r["snapshot_ms"] is not None)
idle = [r["idle_rss_kb"] / 1024 for r in s["runs"]]
after = [r["rss_after_serving_all_kb"] / 1024 for r in s["runs"]]
peak = [r["peak_rss_kb"] / 1024 for r in s["runs"]]
ratio = med("rundocs", "rps") / med("nginx", "rps")
p99r, p99n = med("rundocs", "p99_us") / 1e3, med("nginx", "p99_us") / 1e3
ok = lambda c: "met" if c else "MISSED"
print(f"""
Site benchmark, {machine['date_utc']} UTC; load average before {machine['load_before']}, after {machine['load_after']}
machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['mem']}, wrk and the server share them
page: {body} B body (headers {hdr_r} B rundocs / {hdr_n} B nginx); wrk -t{threads} -c{conns} -d{duration} --latency; nginx {workers} workers
rounds: {len(rows) // 2}, medians below (per round in brackets)

| server  | req/s (median)  | p50 ms | p99 ms | server CPU s | wrk CPU s | errors |
|---------|-----------------|--------|--------|--------------|-----------|--------|
| rundocs | {med('rundocs','rps'):>15.0f} | {med('rundocs','p50_us')/1e3:>6.2f} | {p99r:>6.2f} | {med('rundocs','server_cpu_s'):>12.1f} | {med('rundocs','wrk_cpu_s'):>9.1f} | {med('rundocs','errors'):>6.0f} |
| nginx   | {med('nginx','rps'):>15.0f} | {med('nginx','p50_us')/1e3:>6.2f} | {p99n:>6.2f} | {med('nginx','server_cpu_s'):>12.1f} | {med('nginx','wrk_cpu_s'):>9.1f} | {med('nginx','errors'):>6.0f} |
  rundocs req/s per round: [{each('rundocs','rps')}]   nginx: [{each('nginx','rps')}]
  rundocs/nginx throughput: {ratio:.2f}x  (goal >= 0.8x: {ok(ratio >= 0.8)})   p99 rundocs/nginx: {p99r / p99n:.2f}x

Start-up, {s['pages']} generated pages, {len(ready)} runs (process start -> GET /healthz 200):
  median {statistics.median(ready):.0f} ms, min {ready[0]:.0f} ms, max {ready[-1]:.0f} ms  (goal <= 1000 ms: {ok(statistics.median(ready) <= 1000)})
  snapshot build (rundocs' own log): median {statistics.median(snap) if snap else float('nan'):.0f} ms
  idle RSS: median {statistics.median(idle):.1f} MiB (min {min(idle):.1f}, max {max(idle):.1f})  (goal <= 60 MB: {ok(statistics.median(idle) * 1.048576 <= 60)})
  RSS after serving every page once: median {statistics.median(after):.1f} MiB; peak RSS (VmHWM): median {statistics.median(peak):.1f} MiB
  largest page: {max(r['largest_page_bytes'] for r in s['runs'])} B; all {s['pages']} pages on one connection: {statistics.median(r['serve_all_s'] for r in s['runs']) * 1e3:.0f} ms

raw results: {results}
""")
EOF
