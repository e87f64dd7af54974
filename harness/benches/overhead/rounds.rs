//! The rounds of one measure: how long each took, and how many page faults
//! it cost (this process's and those of the processes it started and
//! reaped). On this kind of machine a probe's process costs mostly page
//! faults, so the faults say why a ratio is what it is.

use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};

/// The minor page faults of this process and of every descendant reaped so
/// far (a process's reaped descendants count in its own children's usage).
fn faults() -> u64 {
    let of = |who| getrusage(who).map_or(0, |u| u.minor_page_faults().max(0) as u64);
    of(UsageWho::RUSAGE_SELF) + of(UsageWho::RUSAGE_CHILDREN)
}

/// The mean page faults of `n` calls of `round`, counted once `reap`
/// (called after the last) has reaped what the rounds left running: the
/// harness's spawner, which reaps each trial's processes, so that their
/// faults count only in its own once it is reaped. Its start is in the
/// mean, spread over the `n` rounds.
pub fn mean_faults(n: usize, mut round: impl FnMut(), reap: impl FnOnce()) -> u64 {
    let start = faults();
    for _ in 0..n {
        round();
    }
    reap();
    faults().saturating_sub(start) / n.max(1) as u64
}

/// Where a round started: the clock and the count of faults.
pub struct Mark(Instant, u64);

impl Mark {
    pub fn now() -> Mark {
        Mark(Instant::now(), faults())
    }
}

/// The durations and page faults of a measure's rounds.
#[derive(Default)]
pub struct Rounds {
    times: Vec<Duration>,
    faults: Vec<u64>,
}

/// The medians of a measure: ms and page faults a round.
pub struct Medians {
    pub ms: f64,
    pub faults: u64,
}

impl Rounds {
    /// Count a round that started at `start` and has just ended.
    pub fn push(&mut self, start: Mark) {
        self.times.push(start.0.elapsed());
        self.faults.push(faults().saturating_sub(start.1));
    }

    /// The medians, less the first, warming round; none when a round
    /// failed or none was counted.
    pub fn medians(mut self, failed: bool) -> Option<Medians> {
        if !self.times.is_empty() {
            self.times.remove(0);
            self.faults.remove(0);
        }
        if failed || self.times.is_empty() {
            return None;
        }
        self.times.sort();
        self.faults.sort();
        let mid = self.times.len() / 2;
        Some(Medians {
            ms: self.times[mid].as_secs_f64() * 1000.0,
            faults: self.faults[mid],
        })
    }
}
