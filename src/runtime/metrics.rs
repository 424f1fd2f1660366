//! Run metrics in Prometheus' text format: runs by end state, queue depth,
//! active runs, and histograms of run duration and GIL wait.
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::events::EndStatus;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

/// The runtime's counters, shared by its threads.
pub struct RunMetrics {
    registry: Registry,
    runs: Family<StatusLabel, Counter>,
    queue_depth: Gauge,
    active: Gauge,
    threads_left_running: Gauge,
    duration: Histogram,
    gil_wait: Histogram,
}

impl RunMetrics {
    pub fn new() -> RunMetrics {
        RunMetrics::with_capacity(0, 0)
    }

    /// The counters of a runtime with `workers` worker threads and room for
    /// `queue` waiting runs: its capacity, for an autoscaler's
    /// (queued + active) / capacity.
    pub fn with_capacity(workers: usize, queue: usize) -> RunMetrics {
        let mut registry = Registry::with_prefix("rundocs");
        let capacity = |value: usize| {
            let gauge: Gauge = Gauge::default();
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
            gauge
        };
        registry.register(
            "run_workers",
            "Worker threads that run examples (runs at once)",
            capacity(workers),
        );
        registry.register(
            "run_queue_capacity",
            "Runs that may wait for a worker before more are refused",
            capacity(queue),
        );
        let runs = Family::<StatusLabel, Counter>::default();
        let queue_depth = Gauge::default();
        let active = Gauge::default();
        let threads_left_running = Gauge::default();
        // 100 µs .. ~100 s
        let duration = Histogram::new(exponential_buckets(0.0001, 4.0, 11));
        // 1 µs .. ~1 s
        let gil_wait = Histogram::new(exponential_buckets(0.000001, 4.0, 11));
        registry.register("runs", "Runs ended, by end state", runs.clone());
        registry.register(
            "run_queue_depth",
            "Runs waiting for a worker",
            queue_depth.clone(),
        );
        registry.register("runs_active", "Runs on a worker now", active.clone());
        registry.register(
            "threads_left_running",
            "Threads started by examples that outlived their run and are still alive",
            threads_left_running.clone(),
        );
        registry.register(
            "run_duration_seconds",
            "Time a run spent executing",
            duration.clone(),
        );
        registry.register(
            "run_gil_wait_seconds",
            "Time a run waited to attach to the interpreter",
            gil_wait.clone(),
        );
        for status in EndStatus::ALL {
            // Every state shows, at 0, before its first run.
            let _ = runs.get_or_create(&StatusLabel {
                status: status.name(),
            });
        }
        RunMetrics {
            registry,
            runs,
            queue_depth,
            active,
            threads_left_running,
            duration,
            gil_wait,
        }
    }

    pub fn run_started(&self) {
        self.active.inc();
    }

    pub fn run_ended(&self, status: EndStatus, duration_s: f64, gil_wait_s: Option<f64>) {
        self.active.dec();
        self.runs
            .get_or_create(&StatusLabel {
                status: status.name(),
            })
            .inc();
        self.duration.observe(duration_s);
        if let Some(wait) = gil_wait_s {
            self.gil_wait.observe(wait);
        }
    }

    pub fn threads_left_running(&self) -> i64 {
        self.threads_left_running.get()
    }

    pub fn set_threads_left_running(&self, count: i64) {
        self.threads_left_running.set(count);
    }

    /// The text exposition, with the queue depth read now, without the
    /// closing `# EOF` (the caller may add other metrics first).
    pub fn render(&self, queue_depth: usize) -> String {
        self.queue_depth.set(queue_depth as i64);
        let mut text = String::new();
        prometheus_client::encoding::text::encode_registry(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

impl Default for RunMetrics {
    fn default() -> Self {
        RunMetrics::new()
    }
}
