#!/usr/bin/env bash
# The site benchmark (results go in BENCHMARKS.md, section "Site").
#
#   scripts/bench-site.sh            (from the repository root)
#
# 1. Page throughput and latency: wrk against a page served by rundocs
#    (release build) and by nginx serving the very same bytes, saved from
#    rundocs to disk. Two pages: PAGE of the bundled site, and BIG_PAGE of a
#    generated PAGES-page site (every page of which carries a PAGES-entry
#    sidebar). Rounds alternate rundocs/nginx; the summary gives medians.
#    Then search on the generated site: wrk against /api/search?q=SEARCH
#    (rundocs only; every generated word is on hundreds of pages, so a query
#    scores thousands of sections).
# 2. Start-up time (process start -> GET /healthz answers 200) and RSS of the
#    generated site, over STARTUP_RUNS runs, with the part of it spent
#    building the search index.
#
# Everything listens on 127.0.0.1 and every load run is bounded in time. The
# script installs what it lacks on Debian (nginx, wrk, curl, python3), builds
# the release binary under `nice`, stops every server it started on exit,
# writes raw results to bench-results/site-<UTC timestamp>/ and prints a
# summary (also saved as summary.txt there).
#
# Knobs (environment), defaults in brackets: THREADS [2], CONNECTIONS [32],
# DURATION [15s], WARMUP [3s], ROUNDS [3], PAGE [/gil-in-one-page, or the
# first article of the sidebar if the bundled site has no such page],
# BIG_PAGE [/section-01/page-050; empty to skip], PAGES [1000],
# STARTUP_RUNS [9], SEARCH ['thread lock'; empty to skip], NGINX_WORKERS [2], NGINX_EXTRA [more http-level nginx
# directives; default 'open_file_cache max=64 inactive=60s;' so nginx does not
# open() the file per request, the usual tuning for static files; set it
# empty for the plain config], SKIP_BUILD [0; 1 uses the existing binary].
set -euo pipefail

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
ROUNDS=${ROUNDS:-3}
PAGE_GIVEN=$([[ -n ${PAGE:-} ]] && echo 1 || echo 0)
PAGE=${PAGE:-/gil-in-one-page}
BIG_PAGE=${BIG_PAGE-/section-01/page-050}
PAGES=${PAGES:-1000}
STARTUP_RUNS=${STARTUP_RUNS:-9}
SEARCH=${SEARCH-thread lock}
SEARCH_PATH="/api/search?q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$SEARCH")"
NGINX_WORKERS=${NGINX_WORKERS:-2}
NGINX_EXTRA=${NGINX_EXTRA-open_file_cache max=64 inactive=60s;}
SKIP_BUILD=${SKIP_BUILD:-0}

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/rundocs
RESULTS=$ROOT/bench-results/site-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS"
TMP=$(mktemp -d /tmp/rundocs-bench.XXXXXX)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- cleanup: stop every server this script started, by PID ---------------------
PIDS=()
SUDO=""
POLICY_RC_CREATED=0
stop_pids() {
    local pid
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
cleanup() {
    stop_pids "${PIDS[@]}"
    if [[ $POLICY_RC_CREATED == 1 ]]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ------------------------------------------------------------------------
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

# --- build ------------------------------------------------------------------------
if [[ $SKIP_BUILD != 1 ]]; then
    log "building the release binary (nice cargo build --release)"
    nice -n 10 cargo build --release >&2
fi
[[ -x $BIN ]] || die "no binary at $BIN"

# --- helpers ----------------------------------------------------------------------
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The fields of /proc/PID/stat after "pid (comm) ", in array F (F[0] is field 3).
read_stat() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -r -a F <<<"${stat##*) }"
}

# Sum of utime+stime, in clock ticks, of the given PIDs.
cpu_ticks() {
    local total=0 pid
    for pid in "$@"; do
        read_stat "$pid" || continue
        total=$((total + F[11] + F[12]))   # fields 14 and 15
    done
    echo "$total"
}

# PIDs whose parent is $1 (read from /proc, so procps is not needed).
children_of() {
    local stat pid
    for stat in /proc/[0-9]*/stat; do
        pid=${stat#/proc/}; pid=${pid%/stat}
        read_stat "$pid" || continue
        [[ ${F[1]} == "$1" ]] && printf '%s ' "$pid"
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

# start_rundocs NAME ARGS...: starts rundocs on a free port; sets RUNDOCS_PID and RUNDOCS_ADDR.
start_rundocs() {
    local name=$1
    shift
    RUNDOCS_LOG=warn NO_COLOR=1 "$BIN" --bind 127.0.0.1:0 "$@" >"$TMP/$name.out" 2>"$RESULTS/$name.stderr" &
    RUNDOCS_PID=$!
    PIDS+=("$RUNDOCS_PID")
    for _ in $(seq 300); do
        grep -q 'rundocs is serving on http://' "$TMP/$name.out" 2>/dev/null && break
        kill -0 "$RUNDOCS_PID" 2>/dev/null || die "rundocs exited; see $RESULTS/$name.stderr"
        sleep 0.1
    done
    RUNDOCS_ADDR=$(sed -n 's|.*rundocs is serving on http://\([^ ]*\).*|\1|p' "$TMP/$name.out" | head -n1)
    [[ -n $RUNDOCS_ADDR ]] || die "rundocs did not say where it listens"
}

# --- machine ------------------------------------------------------------------------
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
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
    echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RESULTS/machine.txt"
cat "$RESULTS/machine.txt" >&2
if [[ $(awk '{print ($1 > 0.5)}' /proc/loadavg) == 1 ]]; then
    log "warning: load average $(cut -d' ' -f1 /proc/loadavg): other work shares the CPUs and will skew the numbers"
fi

# --- the generated site -------------------------------------------------------------
log "generating $PAGES pages"
SITE=$TMP/site/content
python3 scripts/gen-pages.py "$SITE" --pages "$PAGES" | tee "$RESULTS/generated.txt" >&2

# --- 1. page throughput: rundocs vs nginx, same bytes ---------------------------------
HTML_ROOT=$TMP/html
mkdir -p "$HTML_ROOT"
BENCH_PAGES=(small)
start_rundocs rundocs-bundled
SMALL_PID=$RUNDOCS_PID SMALL_ADDR=$RUNDOCS_ADDR
if [[ -n $BIG_PAGE ]]; then
    BENCH_PAGES+=(big)
    start_rundocs rundocs-generated --content "$SITE"
    BIG_PID=$RUNDOCS_PID BIG_ADDR=$RUNDOCS_ADDR
fi

# save_page KIND ADDR PATH: saves the page for nginx, checks it is uncompressed.
save_page() {
    local kind=$1 addr=$2 path=$3 file=$HTML_ROOT/${3#/} code
    mkdir -p "$(dirname "$file")"
    code=$(curl -sS -o "$file" -D "$RESULTS/headers-rundocs-$kind.txt" -w '%{http_code}' "http://$addr$path")
    [[ $code == 200 ]] || die "GET http://$addr$path answered $code; pick a page from http://$addr/ or /api/snippets"
    if grep -qi '^content-encoding:' "$RESULTS/headers-rundocs-$kind.txt"; then
        die "rundocs compressed a response to a request without Accept-Encoding"
    fi
    cp "$file" "$RESULTS/page-$kind.html"
}
# The default page may have been renamed: fall back to the first article of
# the sidebar (the reader's first page), and say so.
if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$SMALL_ADDR$PAGE") == 404 && $PAGE_GIVEN == 0 ]]; then
    first=$(curl -s "http://$SMALL_ADDR/" | python3 -c '
import re, sys
html = sys.stdin.read()
nav = html[html.index("<nav class=\"sidebar\""):]
print(next(h for h in re.findall(r"href=\"(/[^\"]*)\"", nav) if h != "/"))')
    log "$PAGE is not a page of the bundled site (any more); benchmarking its first article, $first"
    PAGE=$first
fi
save_page small "$SMALL_ADDR" "$PAGE"
[[ -z $BIG_PAGE ]] || save_page big "$BIG_ADDR" "$BIG_PAGE"

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
    # Debian's nginx.conf has tcp_nopush on; with sendfile that corks large
    # responses and gave the 80 kB page a ~40 ms p99 here (delayed ACKs).
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;   # like actix: no cap on requests per connection
    gzip off;                     # as rundocs without Accept-Encoding: identity
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
NGINX_ADDR=127.0.0.1:$NGINX_PORT
for _ in $(seq 100); do
    curl -s -o /dev/null "http://$NGINX_ADDR$PAGE" && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$TMP/nginx/error.log")"
    sleep 0.1
done
sleep 0.5
NGINX_WORKER_PIDS=$(children_of "$NGINX_PID")
for kind in "${BENCH_PAGES[@]}"; do
    if [[ $kind == small ]]; then path=$PAGE; else path=$BIG_PAGE; fi
    curl -sS -o "$TMP/from-nginx.html" -D "$RESULTS/headers-nginx-$kind.txt" "http://$NGINX_ADDR$path"
    cmp -s "$TMP/from-nginx.html" "$RESULTS/page-$kind.html" || die "nginx does not serve the same bytes as rundocs for $path"
    if grep -qi '^content-encoding:' "$RESULTS/headers-nginx-$kind.txt"; then die "nginx compressed the response"; fi
done

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
printf 'page\tserver\tround\trps\tp50_us\tp90_us\tp99_us\tmax_us\terrors\tserver_cpu_s\twrk_cpu_s\tbody_bytes\theader_bytes\n' >"$TSV"
CLK_TCK=$(getconf CLK_TCK)
run_wrk() { # KIND SERVER ROUND
    local kind=$1 server=$2 round=$3 out=$RESULTS/wrk-$1-$2-$3.txt before after pids addr path
    case $kind in
        small) path=$PAGE ;;
        big) path=$BIG_PAGE ;;
        search) path=$SEARCH_PATH ;;
    esac
    case $server/$kind in
        rundocs/small) pids=$SMALL_PID addr=$SMALL_ADDR ;;
        rundocs/big | rundocs/search) pids=$BIG_PID addr=$BIG_ADDR ;;
        nginx/*) pids="$NGINX_PID $NGINX_WORKER_PIDS" addr=$NGINX_ADDR ;;
    esac
    # shellcheck disable=SC2086
    before=$(cpu_ticks $pids)
    local TIMEFORMAT='%U %S'
    { time wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency -s "$TMP/stats.lua" \
        "http://$addr$path" >"$out"; } 2>"$TMP/time.txt"
    # shellcheck disable=SC2086
    after=$(cpu_ticks $pids)
    python3 - "$out" "$TMP/time.txt" "$kind" "$server" "$round" "$before" "$after" "$CLK_TCK" \
        "$RESULTS/page-$kind.html" "$RESULTS/headers-$server-$kind.txt" >>"$TSV" <<'EOF'
import os, re, sys
out, timefile, kind, server, rnd, before, after, tck, body, headers = sys.argv[1:]
line = next(l for l in open(out) if l.startswith("BENCH "))
v = {k: int(float(x)) for k, x in re.findall(r"(\w+)=([\d.]+)", line)}
user, sys_ = map(float, open(timefile).read().split()[-2:])
rps = v["requests"] / (v["duration_us"] / 1e6)
print(f"{kind}\t{server}\t{rnd}\t{rps:.0f}\t{v['p50_us']}\t{v['p90_us']}\t{v['p99_us']}\t{v['max_us']}\t{v['errors']}"
      f"\t{(int(after) - int(before)) / int(tck):.2f}\t{user + sys_:.2f}\t{os.path.getsize(body)}\t{os.path.getsize(headers)}")
EOF
    tail -n1 "$TSV" >&2
}

log "measuring: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds alternating rundocs/nginx, after a $WARMUP warm-up"
for kind in "${BENCH_PAGES[@]}"; do
    if [[ $kind == small ]]; then path=$PAGE raddr=$SMALL_ADDR; else path=$BIG_PAGE raddr=$BIG_ADDR; fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "http://$raddr$path" >"$RESULTS/warmup-$kind-rundocs.txt"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "http://$NGINX_ADDR$path" >"$RESULTS/warmup-$kind-nginx.txt"
    for round in $(seq "$ROUNDS"); do
        if ((round % 2)); then order="rundocs nginx"; else order="nginx rundocs"; fi
        for server in $order; do
            run_wrk "$kind" "$server" "$round"
            sleep 1
        done
    done
done
if [[ -n $BIG_PAGE && -n $SEARCH ]]; then
    log "measuring search: wrk on $SEARCH_PATH of the generated site, $ROUNDS rounds"
    curl -sS -o "$RESULTS/page-search.html" -D "$RESULTS/headers-rundocs-search.txt" "http://$BIG_ADDR$SEARCH_PATH"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "http://$BIG_ADDR$SEARCH_PATH" >"$RESULTS/warmup-search-rundocs.txt"
    for round in $(seq "$ROUNDS"); do
        run_wrk search rundocs "$round"
        sleep 1
    done
fi
{
    echo "rundocs_bundled_rss_kb=$(rss_kb "$SMALL_PID")"
    [[ -z $BIG_PAGE ]] || echo "rundocs_generated_rss_kb=$(rss_kb "$BIG_PID")"
    # shellcheck disable=SC2086
    echo "nginx_rss_kb=$(rss_kb $NGINX_PID $NGINX_WORKER_PIDS)"
} >"$RESULTS/rss-after-load.txt"
stop_pids "${PIDS[@]}"
PIDS=()

# --- 2. start-up time and RSS, generated site -----------------------------------------
# startup.py BINARY CONTENT URLS RUNS OUT: CONTENT "-" is the bundled site,
# URLS is a file of paths to request once each (or "-" for just "/").
cat >"$TMP/startup.py" <<'EOF'
import http.client, json, os, re, signal, socket, subprocess, sys, time

binary, content, urls_file, runs, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
urls = [u.strip() for u in open(urls_file) if u.strip()] if urls_file != "-" else ["/"]
content_args = ["--content", content] if content != "-" else []

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def status_kb(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "Threads"):
            fields[key] = int(value.split()[0])
    return fields

results = []
for run in range(runs):
    port = free_port()
    # rundocs=info adds the one "content loaded ... elapsed_ms" line.
    # and search=debug its "search index built ... elapsed_ms" line.
    env = dict(os.environ, RUNDOCS_LOG="warn,rundocs=info,rundocs::search=debug", NO_COLOR="1")
    started = time.perf_counter()
    proc = subprocess.Popen([binary, *content_args, "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        ready = None
        while time.perf_counter() - started < 30:
            if proc.poll() is not None:
                sys.exit(f"rundocs exited with {proc.returncode}: {proc.stderr.read().decode()}")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
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
        served = biggest = 0
        fetch_started = time.perf_counter()
        for url in urls:
            conn.request("GET", url)
            response = conn.getresponse()
            size = len(response.read())
            if response.status != 200:
                sys.exit(f"GET {url} answered {response.status}")
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
    match = re.search(r"content loaded.*?pages=(\d+).*?elapsed_ms=([\d.]+)", stderr)
    index = re.search(r"search index built.*?elapsed_ms=([\d.]+)", stderr)
    r = {
        "ready_ms": ready * 1e3,
        "snapshot_ms": float(match.group(2)) if match else None,
        "search_index_ms": float(index.group(1)) if index else None,
        "pages_served": int(match.group(1)) if match else None,
        "idle_rss_kb": idle["VmRSS"],
        "idle_rss_anon_kb": idle["RssAnon"],
        "rss_after_serving_all_kb": after["VmRSS"],
        "peak_rss_kb": after["VmHWM"],
        "threads": idle["Threads"],
        "served_bytes": served,
        "largest_page_bytes": biggest,
        "serve_all_ms": fetch_s * 1e3,
    }
    results.append(r)
    loaded = f"{r['snapshot_ms']:.0f} ms" if match else "?"
    print(f"run {run + 1}: healthz 200 after {r['ready_ms']:.0f} ms (content loaded after {loaded}), idle RSS "
          f"{r['idle_rss_kb'] / 1024:.1f} MiB, after serving all {len(urls)} pages "
          f"{r['rss_after_serving_all_kb'] / 1024:.1f} MiB, peak {r['peak_rss_kb'] / 1024:.1f} MiB", file=sys.stderr)
json.dump({"files": len(urls), "runs": results}, open(out, "w"), indent=1)
EOF
log "start-up, bundled site (fixed costs): 3 runs until GET /healthz answers 200"
python3 "$TMP/startup.py" "$BIN" - - 3 "$RESULTS/startup-bundled.json"
log "start-up: $STARTUP_RUNS runs of rundocs --content <$PAGES pages>, until GET /healthz answers 200"
python3 "$TMP/startup.py" "$BIN" "$SITE" "$SITE.urls" "$STARTUP_RUNS" "$RESULTS/startup.json"
echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/machine.txt"

# --- summary ----------------------------------------------------------------------------
python3 - "$RESULTS" "$THREADS" "$CONNECTIONS" "$DURATION" "$NGINX_WORKERS" "$PAGE" "$BIG_PAGE" "$PAGES" "$NGINX_EXTRA" <<'EOF' | tee "$RESULTS/summary.txt"
import csv, json, statistics as st, sys
results, threads, conns, duration, workers, page, big_page, pages, extra = sys.argv[1:]
rows = list(csv.DictReader(open(f"{results}/wrk.tsv"), delimiter="\t"))
machine = dict(line.rstrip("\n").split(": ", 1) for line in open(f"{results}/machine.txt"))
MiB = 1024
ok = lambda c: "met" if c else "MISSED"

def pick(kind, server, key):
    return [float(r[key]) for r in rows if r["page"] == kind and r["server"] == server]

print(f"""
Site benchmark, {machine['date_utc']} UTC, {machine['git']}
machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['mem']}; {machine['kernel']}
load average before {machine['load_before']}, after {machine['load_after']}
wrk -t{threads} -c{conns} -d{duration} --latency on 127.0.0.1; wrk and the server share the {machine['nproc']} CPUs;
rundocs: 2 actix workers; nginx: {workers} workers, same bytes from disk{', ' + extra if extra else ''}. Medians of the rounds; every round in brackets.
""")
# CPU share: wrk + server CPU time over (CPUs x duration), per round; well
# under 100% means other work on the machine took CPU during that round.
seconds = float(duration[:-1]) * {"s": 1, "m": 60, "h": 3600}[duration[-1]] if duration[-1] in "smh" else float(duration)
ncpu = int(machine["nproc"])
print("| page | server | req/s | p50 ms | p99 ms | server CPU s | wrk CPU s | CPU share | errors | body B |")
print("|---|---|---|---|---|---|---|---|---|---|")
ratios = {}
for kind, path in (("small", page), ("big", big_page)):
    if not pick(kind, "rundocs", "rps"):
        continue
    for server in ("rundocs", "nginx"):
        med = lambda key: st.median(pick(kind, server, key))
        each = ", ".join(f"{x:.0f}" for x in pick(kind, server, "rps"))
        shares = lambda kind, server: "[" + ", ".join(
            f"{(a + b) / (ncpu * seconds):.0%}"
            for a, b in zip(pick(kind, server, "server_cpu_s"), pick(kind, server, "wrk_cpu_s"))) + "]"
        print(f"| {path} | {server} | {med('rps'):.0f} [{each}] | {med('p50_us') / 1e3:.2f} | {med('p99_us') / 1e3:.2f} "
              f"| {med('server_cpu_s'):.1f} | {med('wrk_cpu_s'):.1f} | {shares(kind, server)} "
              f"| {sum(pick(kind, server, 'errors')):.0f} | {med('body_bytes'):.0f} |")
    rps = st.median(pick(kind, "rundocs", "rps")) / st.median(pick(kind, "nginx", "rps"))
    p99 = st.median(pick(kind, "rundocs", "p99_us")) / st.median(pick(kind, "nginx", "p99_us"))
    ratios[path] = (rps, p99)
search = [r for r in rows if r["page"] == "search"]
if search:
    each = ", ".join(f"{float(r['rps']):.0f}" for r in search)
    med = lambda key: st.median(float(r[key]) for r in search)
    print(f"| {big_page.rsplit('/', 1)[0]}/… /api/search?q=… | rundocs | {med('rps'):.0f} [{each}] | {med('p50_us') / 1e3:.2f} "
          f"| {med('p99_us') / 1e3:.2f} | {med('server_cpu_s'):.1f} | {med('wrk_cpu_s'):.1f} | | {sum(float(r['errors']) for r in search):.0f} | {med('body_bytes'):.0f} |")
print()
for path, (rps, p99) in ratios.items():
    print(f"{path}: rundocs/nginx throughput {rps:.2f}x (goal >= 0.8x: {ok(rps >= 0.8)}), p99 latency rundocs/nginx {p99:.2f}x")

s = json.load(open(f"{results}/startup.json"))
b = json.load(open(f"{results}/startup-bundled.json"))
runs = s["runs"]
ready = sorted(r["ready_ms"] for r in runs)
snap = sorted(r["snapshot_ms"] for r in runs if r["snapshot_ms"] is not None)
col = lambda key: [r[key] / MiB for r in runs]
spread = lambda xs: f"median {st.median(xs):.1f} MiB (min {min(xs):.1f}, max {max(xs):.1f})"
idle = col("idle_rss_kb")
print(f"""
Start-up, {s['files']} generated files, {len(runs)} runs (process start -> GET /healthz answers 200):
  {st.median(ready):.0f} ms median, min {ready[0]:.0f}, max {ready[-1]:.0f}  (goal <= 1000 ms: {ok(st.median(ready) <= 1000)})
  rundocs' own "content loaded" log line (interpreter start + snapshot build): {st.median(snap) if snap else float('nan'):.0f} ms median
  of which building the search index: {st.median(r['search_index_ms'] for r in runs if r['search_index_ms'] is not None) if any(r['search_index_ms'] is not None for r in runs) else float('nan'):.0f} ms median
  idle RSS, 1 s after start-up: {spread(idle)}  (goal <= 60 MB = 57.2 MiB: {ok(st.median(idle) * MiB * 1024 <= 60e6)})
    of which anonymous (heap): {spread(col('idle_rss_anon_kb'))}
  RSS after serving every page once: {spread(col('rss_after_serving_all_kb'))}
  peak RSS (VmHWM): {spread(col('peak_rss_kb'))}
  largest page {max(r['largest_page_bytes'] for r in runs)} B; all pages, one by one on one connection: {st.median(r['serve_all_ms'] for r in runs):.0f} ms median
Start-up, bundled site ({len(b['runs'])} runs; fixed costs): healthz 200 after {st.median(r['ready_ms'] for r in b['runs']):.0f} ms median, idle RSS {st.median(r['idle_rss_kb'] for r in b['runs']) / MiB:.1f} MiB median
RSS after the load runs: {open(f"{results}/rss-after-load.txt").read().split()}
raw results: {results}
""")
EOF
