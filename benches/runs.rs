//! Run benchmarks against the real server binary on loopback.
//!
//! `cargo bench --bench runs` (add `-- --quick` for a short smoke run):
//!
//! 1. First-event latency of `print("hi")` over HTTP (POST → first `stdout`
//!    event), p50 and p99, against spawning `python3 -c 'print("hi")'` and
//!    reading its first byte of stdout, in the same run; and the whole run
//!    (POST → end of stream), which includes the work after the run: its
//!    end as a script's, and putting the interpreter's state back.
//! 2. Page latency p99 while idle and while two CPU-bound runs execute.
//! 3. 500 concurrent I/O-bound streaming runs (sleep + print): how many
//!    complete with all their output, and the server's peak RSS.
//! 4. The cost of the per-run memory limit: an allocation-heavy example,
//!    timed inside the run, on a server with the limit (the default) and on
//!    one without it (`memory_limit_bytes = 0`, allocators not wrapped),
//!    alternating between the two.
//!
//! The server is `target/release/rundocs` in a child process (so its memory
//! is its own), bound to 127.0.0.1 on a free port, stopped at the end. Set
//! `RUNDOCS_BENCH_BINARY` to measure another build (an earlier commit, say)
//! with the same bench.
mod common;

use std::time::{Duration, Instant};

use common::*;

async fn page_latencies(
    client: &reqwest::Client,
    url: &str,
    duration: Duration,
    concurrency: usize,
) -> Vec<f64> {
    let deadline = Instant::now() + duration;
    let tasks = (0..concurrency).map(|_| {
        let client = client.clone();
        let url = url.to_string();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let response = client.get(&url).send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.bytes().await.unwrap();
                samples.push(started.elapsed().as_secs_f64() * 1e3);
            }
            samples
        })
    });
    let mut all = Vec::new();
    for task in futures_util::future::join_all(tasks).await {
        all.extend(task.unwrap());
    }
    all
}

const CONTENT: &str = r#"# Bench

```python name=hi
print("hi")
```

```python name=burn timeout=120
import time
end = time.monotonic() + float(60)
n = 0
while time.monotonic() < end:
    n += 1
```

```python name=alloc timeout=60
import time
started = time.perf_counter()
for _ in range(10):
    words = [str(i) * 3 for i in range(100_000)]
    table = {w: len(w) for w in words}
    blob = b"".join(w.encode() for w in words)
    chunks = [bytearray(4096) for _ in range(2_000)]
    del words, table, blob, chunks
print(f"{(time.perf_counter() - started) * 1e3:.3f}")
```

```python name=io timeout=60
import time
for i in range(4):
    print("line", i, flush=True)
    time.sleep(0.5)
```
"#;

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bench.md"), CONTENT).unwrap();
    let client = reqwest::Client::new();

    // 1. First-event latency against a process per run.
    let server = Server::start(dir.path(), &[]);
    let ids = ids(&client, &server.base).await;
    let hi = format!("{}/api/run/{}", server.base, id_of(&ids, "hi"));
    let runs = if quick { 50 } else { 1000 };
    for _ in 0..20 {
        first_output_ms(client.post(&hi)).await;
    }
    let mut http = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..runs {
        let (first, all, _) = first_output_ms(client.post(&hi)).await;
        http.push(first);
        whole.push(all);
    }
    let spawns = if quick { 10 } else { 100 };
    let process: Vec<f64> = (0..spawns).map(|_| spawn_python_first_byte_ms()).collect();
    let (http50, http99) = summary(http);
    let (whole50, whole99) = summary(whole);
    let (proc50, proc99) = summary(process);
    println!("first output of print(\"hi\"): rundocs over HTTP p50 {http50:.3} ms p99 {http99:.3} ms ({runs} runs)");
    println!("whole run of print(\"hi\") (POST to end of stream): p50 {whole50:.3} ms p99 {whole99:.3} ms");
    println!("first output of print(\"hi\"): python3 -c per run p50 {proc50:.3} ms p99 {proc99:.3} ms ({spawns} spawns)");
    println!(
        "speed-up at p50: {:.0}x, at p99: {:.0}x",
        proc50 / http50,
        proc99 / http99
    );

    // 2. Page latency idle, then with two CPU-bound runs holding the GIL in turns.
    let page = format!("{}/bench", server.base);
    let window = Duration::from_secs(if quick { 2 } else { 10 });
    page_latencies(&client, &page, Duration::from_secs(1), 4).await;
    let (idle50, idle99) = summary(page_latencies(&client, &page, window, 4).await);
    let burn = format!("{}/api/run/{}", server.base, id_of(&ids, "burn"));
    let burners: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            let burn = burn.clone();
            tokio::spawn(async move {
                let response = client.post(&burn).send().await.unwrap();
                // Dropping the response after the window cancels the run.
                tokio::time::sleep(Duration::from_secs(70)).await;
                drop(response);
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (busy50, busy99) = summary(page_latencies(&client, &page, window, 4).await);
    for burner in burners {
        burner.abort();
    }
    println!("page latency idle: p50 {idle50:.3} ms p99 {idle99:.3} ms");
    println!("page latency with two CPU-bound runs: p50 {busy50:.3} ms p99 {busy99:.3} ms ({:.2}x idle p99)", busy99 / idle99);
    drop(server);

    // 3. 500 concurrent I/O-bound streaming runs.
    let concurrent = if quick { 100 } else { 500 };
    let server = Server::start(
        dir.path(),
        &[
            ("RUNDOCS_RUN__WORKERS", "500"),
            ("RUNDOCS_RUN__QUEUE", "1000"),
        ],
    );
    let ids = self::ids(&client, &server.base).await;
    let io = format!("{}/api/run/{}", server.base, id_of(&ids, "io"));
    let (_, rss_before) = server.memory_mib();
    let started = Instant::now();
    let tasks = (0..concurrent).map(|_| {
        let client = client.clone();
        let io = io.clone();
        tokio::spawn(async move { first_output_ms(client.post(&io)).await.2 })
    });
    let outputs = futures_util::future::join_all(tasks).await;
    let elapsed = started.elapsed();
    let expected: String = (0..4).map(|i| format!("line {i}\n")).collect();
    let complete = outputs
        .iter()
        .filter(|o| {
            let o = o.as_ref().unwrap();
            stdout_of(o) == expected && o.contains("\"status\":\"ok\"")
        })
        .count();
    let (peak, rss_after) = server.memory_mib();
    println!(
        "{concurrent} concurrent I/O-bound runs: {complete} complete with all output in {:.1} s; server RSS {rss_before:.1} MiB before, peak {peak:.1} MiB, {rss_after:.1} MiB after",
        elapsed.as_secs_f64()
    );
    drop(server);

    // 4. What the memory limit costs an allocation-heavy example.
    let limited = Server::start(dir.path(), &[]);
    let unlimited = Server::start(dir.path(), &[("RUNDOCS_RUN__MEMORY_LIMIT_BYTES", "0")]);
    let alloc_id = id_of(&self::ids(&client, &limited.base).await, "alloc");
    let rounds = if quick { 5 } else { 40 };
    let (mut with_limit, mut without_limit) = (Vec::new(), Vec::new());
    for round in 0..rounds + 2 {
        for (server, samples) in [
            (&limited, &mut with_limit),
            (&unlimited, &mut without_limit),
        ] {
            let url = format!("{}/api/run/{alloc_id}", server.base);
            let (_, _, stream) = first_output_ms(client.post(&url)).await;
            let ms: f64 = stdout_of(&stream).trim().parse().unwrap();
            if round >= 2 {
                samples.push(ms);
            }
        }
    }
    let (on50, _) = summary(with_limit);
    let (off50, _) = summary(without_limit);
    println!(
        "allocation-heavy example ({rounds} runs each, alternating): median {on50:.1} ms with the memory limit, {off50:.1} ms without ({:+.1} %)",
        (on50 / off50 - 1.0) * 100.0
    );
}
