//! What the benches share: the server under test in a child process, its
//! memory, percentiles, the run stream read as text, and a `python3 -c`
//! spawn timed to its first byte of output.
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// The server under test: this build's binary, or `RUNDOCS_BENCH_BINARY`
/// (another build, e.g. of an earlier commit, to compare in the same run).
pub fn binary() -> String {
    std::env::var("RUNDOCS_BENCH_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_rundocs").to_string())
}

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    /// SIGTERM, so the server stops its warm interpreter and cleans up;
    /// SIGKILL if it has not stopped within 10 s.
    fn drop(&mut self) {
        // SAFETY: kill(2) of the child this bench started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn start(content: &std::path::Path, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(binary());
        command
            .args([
                "--content",
                content.to_str().unwrap(),
                "--bind",
                "127.0.0.1:0",
            ])
            .env("RUNDOCS_LOG", "warn")
            .env_remove("RUNDOCS_BENCH_BINARY")
            // One client sends every run here; lift the per-client limit.
            .env("RUNDOCS_RUN__RATE_LIMIT_PER_MINUTE", "100000000")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("the server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line.rsplit("http://").next().unwrap().trim().to_string();
        Server {
            child,
            base: format!("http://{addr}"),
        }
    }

    /// VmHWM (peak resident set) and VmRSS of the server, in MiB.
    pub fn memory_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| -> f64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .unwrap()
                / 1024.0
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

pub fn summary(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

pub async fn ids(client: &reqwest::Client, base: &str) -> Vec<(String, Option<String>)> {
    let snippets: serde_json::Value = client
        .get(format!("{base}/api/snippets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    snippets
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["name"].as_str().map(str::to_string),
            )
        })
        .collect()
}

pub fn id_of(ids: &[(String, Option<String>)], name: &str) -> String {
    ids.iter()
        .find(|(_, n)| n.as_deref() == Some(name))
        .unwrap()
        .0
        .clone()
}

/// Milliseconds from sending the POST to the first `stdout` event, and to
/// the end of the stream (the run's end event, sent after the worker has
/// finished the run and put the interpreter's state back).
pub async fn first_output_ms(request: reqwest::RequestBuilder) -> (f64, f64, String) {
    let started = Instant::now();
    let mut response = request.send().await.unwrap();
    let mut seen = String::new();
    let mut first = None;
    while let Some(chunk) = response.chunk().await.unwrap() {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if first.is_none() && seen.contains("event: stdout") {
            first = Some(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let whole = started.elapsed().as_secs_f64() * 1e3;
    (first.expect("the run printed"), whole, seen)
}

/// The stdout text of a raw event stream, concatenated.
pub fn stdout_of(stream: &str) -> String {
    let mut text = String::new();
    let mut in_stdout = false;
    for line in stream.lines() {
        if let Some(name) = line.strip_prefix("event: ") {
            in_stdout = name == "stdout";
        } else if let Some(data) = line.strip_prefix("data: ") {
            if in_stdout {
                let value: serde_json::Value = serde_json::from_str(data).unwrap();
                text.push_str(value["text"].as_str().unwrap());
            }
        }
    }
    text
}

pub fn spawn_python_first_byte_ms() -> f64 {
    let started = Instant::now();
    let mut child = Command::new("python3")
        .args(["-c", "print('hi')"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut byte = [0u8; 1];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut byte)
        .unwrap();
    let elapsed = started.elapsed().as_secs_f64() * 1e3;
    child.wait().unwrap();
    elapsed
}

/// Children of `parent` whose command line holds `needle` (the warm
/// interpreters of a server: `__zygote`; their own children do not count).
pub fn children_named(parent: u32, needle: &str) -> usize {
    let parent_line = format!("PPid:\t{parent}\n");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            std::fs::read_to_string(entry.path().join("status"))
                .is_ok_and(|status| status.contains(&parent_line))
                && std::fs::read(entry.path().join("cmdline"))
                    .is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .count()
}
