//! Edit-and-run benchmarks against the real server binary on loopback.
//!
//! `cargo bench --bench edit` (add `-- --quick` for a short smoke run):
//!
//! 1. First output of an edited `print("hi")` (POST /api/run → first
//!    `stdout` event), p50 and p99: with a sandboxed child forked in
//!    advance and waiting (`run.process.warm = 2`, the bench waits until
//!    both are there before each run), the same runs back to back (the
//!    next run starts while the children are being replaced), and forking
//!    on demand (`warm = 0`);
//!    against the same code authored and run in thread mode on the same
//!    server, and against spawning `python3 -c`, in the same run.
//! 2. Two CPU-bound edited runs at once against one alone: each run is a
//!    process, so on two cores two should take about as long as one.
//! 3. 200 concurrent edited runs (sleep, then print): how many end `ok`
//!    with all their output, the server's peak RSS, and how many warm
//!    interpreters there are during and after.
//!
//! Set `RUNDOCS_BENCH_BINARY` to measure another build.
mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const CONTENT: &str = r#"# Bench

```python name=hi
print("hi")
```
"#;

/// Seconds of pure-Python work, timed inside the run.
const BURN: &str = r#"import time
started = time.perf_counter()
n = 0
for i in range(6_000_000):
    n += i % 7
print(f"{time.perf_counter() - started:.3f}")
"#;

fn edited(client: &reqwest::Client, base: &str, code: &str) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/api/run"))
        .json(&json!({ "code": code }))
}

async fn first_outputs(runs: usize, request: impl Fn() -> reqwest::RequestBuilder) -> (f64, f64) {
    first_outputs_after(runs, request, || async {}).await
}

/// As `first_outputs`, awaiting `before()` ahead of each request (untimed).
async fn first_outputs_after<F: std::future::Future<Output = ()>>(
    runs: usize,
    request: impl Fn() -> reqwest::RequestBuilder,
    before: impl Fn() -> F,
) -> (f64, f64) {
    for _ in 0..10 {
        before().await;
        first_output_ms(request()).await;
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        before().await;
        let (first, _, stream) = first_output_ms(request()).await;
        assert_eq!(stdout_of(&stream), "hi\n", "{stream}");
        samples.push(first);
    }
    summary(samples)
}

async fn forks_on_demand(client: &reqwest::Client, base: &str) -> u64 {
    metric(client, base, "rundocs_process_forks_on_demand_total").await
}

/// Waits until the server has `warm` sandboxed children waiting for code.
async fn children_ready(client: &reqwest::Client, base: &str, warm: u64) {
    let until = Instant::now() + Duration::from_secs(5);
    while metric(client, base, "rundocs_process_warm_children").await < warm {
        assert!(
            Instant::now() < until,
            "the warm children were not replaced"
        );
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

async fn metric(client: &reqwest::Client, base: &str, name: &str) -> u64 {
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Seconds each of `parallel` simultaneous CPU-bound runs took (their own timing).
async fn burn_seconds(client: &reqwest::Client, base: &str, parallel: usize) -> Vec<f64> {
    let runs = (0..parallel).map(|_| {
        let request = edited(client, base, BURN);
        async move {
            let (_, _, stream) = first_output_ms(request).await;
            stdout_of(&stream)
                .trim()
                .parse::<f64>()
                .expect("the burn printed its time")
        }
    });
    futures_util::future::join_all(runs).await
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bench.md"), CONTENT).unwrap();
    let client = reqwest::Client::new();
    let runs = if quick { 50 } else { 1000 };
    let open = [
        ("RUNDOCS_RUN__EDIT", "open"),
        ("RUNDOCS_RUN__PROCESS__EDIT_CPU_SECONDS_PER_HOUR", "1000000"),
    ];

    // 1. First output: warm child, fork on demand, thread mode, python3 -c.
    let server = Server::start(dir.path(), &open);
    let base = server.base.clone();
    let hi_id = id_of(&ids(&client, &base).await, "hi");
    let print_hi = || edited(&client, &base, "print(\"hi\")");
    let (ready50, ready99) =
        first_outputs_after(runs, print_hi, || children_ready(&client, &base, 2)).await;
    let ready_forks = forks_on_demand(&client, &base).await;
    let (warm50, warm99) = first_outputs(runs, print_hi).await;
    let warm_forks = forks_on_demand(&client, &base).await - ready_forks;
    let hi = format!("{base}/api/run/{hi_id}");
    let (thread50, thread99) = first_outputs(runs, || client.post(&hi)).await;
    drop(server);

    let mut cold_env = open.to_vec();
    cold_env.push(("RUNDOCS_RUN__PROCESS__WARM", "0"));
    let server = Server::start(dir.path(), &cold_env);
    let base = server.base.clone();
    let (cold50, cold99) = first_outputs(runs, || edited(&client, &base, "print(\"hi\")")).await;
    let cold_forks = forks_on_demand(&client, &base).await;
    drop(server);

    let spawns = if quick { 10 } else { 100 };
    let (spawn50, spawn99) = summary((0..spawns).map(|_| spawn_python_first_byte_ms()).collect());
    println!("first output of an edited print(\"hi\"), {runs} runs each:");
    println!("  process mode, a child ready:            p50 {ready50:.3} ms p99 {ready99:.3} ms ({ready_forks} of {} runs forked on demand)", runs + 10);
    println!("  process mode, back to back (warm = 2):  p50 {warm50:.3} ms p99 {warm99:.3} ms ({warm_forks} of {} runs forked on demand)", runs + 10);
    println!("  process mode, forking on demand:       p50 {cold50:.3} ms p99 {cold99:.3} ms ({cold_forks} forks on demand)");
    println!("  thread mode (authored, same server):    p50 {thread50:.3} ms p99 {thread99:.3} ms");
    println!(
        "  python3 -c per run ({spawns} spawns):          p50 {spawn50:.3} ms p99 {spawn99:.3} ms"
    );

    // 2. CPU-bound runs: one alone, then two at once.
    let server = Server::start(dir.path(), &open);
    let rounds = if quick { 2 } else { 5 };
    let mut alone = Vec::new();
    let mut together = Vec::new();
    for _ in 0..rounds {
        alone.extend(burn_seconds(&client, &server.base, 1).await);
        together.extend(burn_seconds(&client, &server.base, 2).await);
    }
    let (alone50, _) = summary(alone);
    let (together50, _) = summary(together);
    println!(
        "CPU-bound edited runs ({} cores): one alone {alone50:.3} s; two at once {together50:.3} s each; throughput {:.2}x of one",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        2.0 * alone50 / together50
    );
    drop(server);

    // 3. 200 concurrent edited runs.
    let concurrent = if quick { 50 } else { 200 };
    let mut many_env = open.to_vec();
    many_env.extend([
        ("RUNDOCS_RUN__WORKERS", "200"),
        ("RUNDOCS_RUN__QUEUE", "400"),
    ]);
    let server = Server::start(dir.path(), &many_env);
    let server_pid = server.child.id();
    let zygotes_before = children_named(server_pid, "__zygote");
    let started = Instant::now();
    let tasks = (0..concurrent).map(|n| {
        let request = edited(
            &client,
            &server.base,
            &format!("import time\ntime.sleep(0.5)\nprint('run {n}')"),
        );
        tokio::spawn(async move { (n, first_output_ms(request).await.2) })
    });
    let sampler = {
        tokio::spawn(async move {
            let mut most = 0;
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until {
                most = most.max(children_named(server_pid, "__zygote"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            most
        })
    };
    let mut complete = 0;
    for task in futures_util::future::join_all(tasks).await {
        let (n, stream) = task.unwrap();
        if stdout_of(&stream) == format!("run {n}\n") && stream.contains("\"status\":\"ok\"") {
            complete += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let most_zygotes = sampler.await.unwrap();
    let (peak, now) = server.memory_mib();
    println!(
        "{concurrent} concurrent edited runs (0.5 s each): {complete} complete in {elapsed:.2} s; \
         server RSS peak {peak:.1} MiB, now {now:.1} MiB; warm interpreters: {zygotes_before} before, at most {most_zygotes} during"
    );
    drop(server);
    println!(
        "warm interpreters left after the server stopped: {}",
        children_named(server_pid, "__zygote")
    );
}
