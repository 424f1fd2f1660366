//! A bound on password checks running at once: each one takes tens of
//! milliseconds of CPU and about 19 MiB (argon2id), so a flood of made-up
//! credentials must cost time, not memory. A check waits its turn for a
//! while, so real users behind a few bad guesses still get in; a request
//! that would wait too long, or join too long a line, is told to retry.
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a check waits for a free slot.
const WAIT_AT_MOST: Duration = Duration::from_secs(3);
/// How many checks may wait at once.
const WAITING_AT_MOST: usize = 64;

#[derive(Debug, Default)]
struct Counts {
    running: usize,
    waiting: usize,
}

/// Slots for checks: a counting semaphore whose waits are bounded.
#[derive(Debug)]
pub struct VerificationSlots {
    counts: Mutex<Counts>,
    freed: Condvar,
    running_at_most: usize,
}

/// A taken slot, given back when dropped.
pub struct Slot<'a>(&'a VerificationSlots);

impl VerificationSlots {
    pub fn new(running_at_most: usize) -> VerificationSlots {
        VerificationSlots {
            counts: Mutex::new(Counts::default()),
            freed: Condvar::new(),
            running_at_most: running_at_most.max(1),
        }
    }

    /// A slot, after waiting for one if need be; `None` if the line is too
    /// long or no slot freed up in time.
    pub fn take(&self) -> Option<Slot<'_>> {
        let deadline = Instant::now() + WAIT_AT_MOST;
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.running >= self.running_at_most {
            if counts.waiting >= WAITING_AT_MOST {
                return None;
            }
            counts.waiting += 1;
            while counts.running >= self.running_at_most {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    counts.waiting -= 1;
                    return None;
                }
                counts = self
                    .freed
                    .wait_timeout(counts, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            counts.waiting -= 1;
        }
        counts.running += 1;
        Some(Slot(self))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut counts = self.0.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.running -= 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_waits_for_a_slot_to_free_up() {
        let slots = VerificationSlots::new(1);
        std::thread::scope(|scope| {
            let first = slots.take().expect("a free slot");
            let waiter = scope.spawn(|| slots.take().is_some());
            std::thread::sleep(Duration::from_millis(50));
            drop(first);
            assert!(
                waiter.join().unwrap(),
                "the waiting check got the freed slot"
            );
        });
    }

    #[test]
    fn slots_are_given_back() {
        let slots = VerificationSlots::new(2);
        for _ in 0..10 {
            let a = slots.take();
            let b = slots.take();
            assert!(a.is_some() && b.is_some());
        }
    }
}
