//! Send-time accounting for open-loop and closed-loop load.
//!
//! Open loop: request `n` is *intended* to leave at `n / rate` seconds after the start,
//! whatever happened to the requests before it. Its latency is measured from that
//! intended time, not from the moment it actually left, so a server stall that delays
//! the sender shows up in the latencies of every request stuck behind it instead of
//! vanishing (the "coordinated omission" of closed-loop tools).
//!
//! The schedule and the recorder are pure: times are offsets from the start of the run,
//! supplied by a [`Clock`]. The runner feeds them a monotonic clock; the tests a manual
//! one.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::error::BenchError;

/// Offsets from the start of a run.
pub trait Clock {
    /// Time elapsed since the start.
    fn now(&self) -> Duration;
}

/// The monotonic clock of the machine.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    start: tokio::time::Instant,
}

impl MonotonicClock {
    /// A clock whose zero is now.
    pub fn start() -> Self {
        Self {
            start: tokio::time::Instant::now(),
        }
    }

    /// The instant an offset designates.
    pub fn instant(&self, offset: Duration) -> tokio::time::Instant {
        self.start + offset
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

/// Limits shared by both loop kinds. Every run stops by itself: after
/// `warmup + duration`, or earlier once `max_requests` measured requests were issued.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunLimits {
    /// Requests issued before this offset are sent but not recorded.
    pub warmup: Duration,
    /// Length of the measured window after the warm-up.
    pub duration: Duration,
    /// Upper bound on measured requests, if any.
    pub max_requests: Option<u64>,
}

impl RunLimits {
    /// End of the run, as an offset from its start.
    pub fn end(&self) -> Duration {
        self.warmup + self.duration
    }
}

/// One scheduled request of an open-loop run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// Sequence number, from 0.
    pub seq: u64,
    /// When the request should leave, from the start of the run.
    pub intended: Duration,
    /// False during the warm-up.
    pub measured: bool,
}

/// The fixed-rate arrival schedule of an open-loop run.
#[derive(Debug, Clone)]
pub struct OpenLoopSchedule {
    rate: f64,
    limits: RunLimits,
    next_seq: u64,
    measured_issued: u64,
}

impl OpenLoopSchedule {
    /// `rate` requests per second under `limits`.
    ///
    /// # Errors
    /// [`BenchError::InvalidRate`] unless the rate is finite and positive.
    pub fn new(rate: f64, limits: RunLimits) -> Result<Self, BenchError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(BenchError::InvalidRate(rate));
        }
        Ok(Self {
            rate,
            limits,
            next_seq: 0,
            measured_issued: 0,
        })
    }

    /// Intended send offset of request `seq`. Computed from `seq` directly, never by
    /// adding intervals, so rounding does not drift over a long run.
    pub fn intended(&self, seq: u64) -> Duration {
        Duration::from_secs_f64(seq as f64 / self.rate)
    }

    /// The next request to send, or `None` once the run is over.
    pub fn next_tick(&mut self) -> Option<Tick> {
        let intended = self.intended(self.next_seq);
        if intended >= self.limits.end() {
            return None;
        }
        let measured = intended >= self.limits.warmup;
        if measured {
            if self
                .limits
                .max_requests
                .is_some_and(|max| self.measured_issued >= max)
            {
                return None;
            }
            self.measured_issued += 1;
        }
        let tick = Tick {
            seq: self.next_seq,
            intended,
            measured,
        };
        self.next_seq += 1;
        Some(tick)
    }
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Success,
    /// Anything else: a non-2xx status or a transport error, with a short description.
    Failure(String),
}

/// Latencies (microseconds) and counts of the measured requests of a run.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Latencies of successful measured requests, in microseconds.
    pub histogram: Histogram<u64>,
    /// Successful measured requests.
    pub successes: u64,
    /// Failed measured requests.
    pub failures: u64,
    /// The first failure seen, to say what went wrong.
    pub first_failure: Option<String>,
    /// The same accounting per kind of request (`keyword`, `get-by-id`, ...), for the
    /// requests recorded with [`Recorder::record_as`]. Empty for unlabelled requests.
    pub by_kind: BTreeMap<String, Recorder>,
}

/// Longest latency a histogram records (values above are clamped): 60 s.
pub const MAX_LATENCY_US: u64 = 60_000_000;

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder: 1 µs to 60 s at three significant digits.
    pub fn new() -> Self {
        Self {
            histogram: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("1 µs to 60 s at 3 significant digits are valid bounds"),
            successes: 0,
            failures: 0,
            first_failure: None,
            by_kind: BTreeMap::new(),
        }
    }

    /// Records a request that completed at `completed` (offset from the run start) and
    /// was meant to start at `started`: its intended send time in an open loop, its
    /// actual send time in a closed loop. Unmeasured requests are ignored.
    pub fn record(
        &mut self,
        measured: bool,
        started: Duration,
        completed: Duration,
        outcome: Outcome,
    ) {
        if !measured {
            return;
        }
        match outcome {
            Outcome::Success => {
                let micros = completed.saturating_sub(started).as_micros();
                let micros = u64::try_from(micros)
                    .unwrap_or(u64::MAX)
                    .clamp(1, MAX_LATENCY_US);
                self.histogram
                    .record(micros)
                    .expect("the value is clamped into the histogram's bounds");
                self.successes += 1;
            }
            Outcome::Failure(reason) => {
                self.failures += 1;
                self.first_failure.get_or_insert(reason);
            }
        }
    }

    /// Records a request of kind `kind`: in the totals and in that kind's breakdown.
    pub fn record_as(
        &mut self,
        kind: &str,
        measured: bool,
        started: Duration,
        completed: Duration,
        outcome: Outcome,
    ) {
        if !measured {
            return;
        }
        self.by_kind.entry(kind.to_owned()).or_default().record(
            measured,
            started,
            completed,
            outcome.clone(),
        );
        self.record(measured, started, completed, outcome);
    }

    /// Records an open-loop request: latency from its intended send time.
    pub fn record_tick(&mut self, tick: &Tick, completed: Duration, outcome: Outcome) {
        self.record(tick.measured, tick.intended, completed, outcome);
    }

    /// Records an open-loop request of kind `kind` (see [`Recorder::record_as`]).
    pub fn record_tick_as(
        &mut self,
        kind: &str,
        tick: &Tick,
        completed: Duration,
        outcome: Outcome,
    ) {
        self.record_as(kind, tick.measured, tick.intended, completed, outcome);
    }

    /// Adds another recorder's counts and latencies to this one.
    pub fn merge(&mut self, other: &Recorder) {
        self.histogram
            .add(&other.histogram)
            .expect("recorders share the same bounds");
        self.successes += other.successes;
        self.failures += other.failures;
        if self.first_failure.is_none() {
            self.first_failure.clone_from(&other.first_failure);
        }
        for (kind, theirs) in &other.by_kind {
            self.by_kind.entry(kind.clone()).or_default().merge(theirs);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// A clock the test moves by hand.
    struct ManualClock(Cell<Duration>);

    impl ManualClock {
        fn set_ms(&self, ms: u64) {
            self.0.set(Duration::from_millis(ms));
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Duration {
            self.0.get()
        }
    }

    fn limits(warmup_ms: u64, duration_ms: u64, max: Option<u64>) -> RunLimits {
        RunLimits {
            warmup: Duration::from_millis(warmup_ms),
            duration: Duration::from_millis(duration_ms),
            max_requests: max,
        }
    }

    #[test]
    fn requests_are_scheduled_at_multiples_of_the_interval() {
        let mut schedule = OpenLoopSchedule::new(100.0, limits(0, 50, None)).expect("rate");
        let offsets: Vec<u128> = std::iter::from_fn(|| schedule.next_tick())
            .map(|t| t.intended.as_millis())
            .collect();
        assert_eq!(offsets, vec![0, 10, 20, 30, 40]);
    }

    #[test]
    fn a_late_send_is_charged_from_its_intended_time() {
        let clock = ManualClock(Cell::new(Duration::ZERO));
        let mut schedule = OpenLoopSchedule::new(100.0, limits(0, 1_000, None)).expect("rate");
        let mut recorder = Recorder::new();

        // Request 0 leaves on time and takes 5 ms.
        let first = schedule.next_tick().expect("first tick");
        clock.set_ms(5);
        recorder.record_tick(&first, clock.now(), Outcome::Success);

        // The server stalls: request 1, due at 10 ms, can only leave at 30 ms and is
        // answered at 32 ms. Its latency is 22 ms, not the 2 ms a closed loop would see.
        let second = schedule.next_tick().expect("second tick");
        assert_eq!(second.intended, Duration::from_millis(10));
        clock.set_ms(32);
        recorder.record_tick(&second, clock.now(), Outcome::Success);

        // Request 2, due at 20 ms, also waited behind the stall.
        let third = schedule.next_tick().expect("third tick");
        clock.set_ms(33);
        recorder.record_tick(&third, clock.now(), Outcome::Success);

        assert_eq!(recorder.successes, 3);
        assert_eq!(recorder.histogram.min(), 5_000);
        assert_eq!(recorder.histogram.max(), 22_015);
        assert_eq!(recorder.histogram.value_at_quantile(0.5), 13_007);
    }

    #[test]
    fn warm_up_requests_are_sent_but_not_recorded() {
        let clock = ManualClock(Cell::new(Duration::ZERO));
        let mut schedule = OpenLoopSchedule::new(10.0, limits(200, 300, None)).expect("rate");
        let mut recorder = Recorder::new();
        let mut sent = 0;
        while let Some(tick) = schedule.next_tick() {
            sent += 1;
            clock.set_ms(tick.intended.as_millis() as u64 + 1);
            recorder.record_tick(&tick, clock.now(), Outcome::Success);
        }
        // Ticks at 0 and 100 ms warm up; 200, 300 and 400 ms are measured.
        assert_eq!(sent, 5);
        assert_eq!(recorder.successes, 3);
        assert_eq!(recorder.histogram.max(), 1_000);
    }

    #[test]
    fn the_request_count_limit_stops_the_schedule_early() {
        let mut schedule =
            OpenLoopSchedule::new(1_000.0, limits(2, 60_000, Some(4))).expect("rate");
        let ticks: Vec<Tick> = std::iter::from_fn(|| schedule.next_tick()).collect();
        assert_eq!(ticks.len(), 6);
        assert_eq!(ticks.iter().filter(|t| t.measured).count(), 4);
        assert_eq!(ticks[5].intended, Duration::from_millis(5));
    }

    #[test]
    fn rates_that_are_not_positive_are_refused() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(OpenLoopSchedule::new(rate, limits(0, 10, None)).is_err());
        }
    }

    #[test]
    fn failures_are_counted_apart_from_latencies() {
        let mut recorder = Recorder::new();
        recorder.record(
            true,
            Duration::ZERO,
            Duration::from_millis(1),
            Outcome::Failure("503".into()),
        );
        recorder.record(
            true,
            Duration::ZERO,
            Duration::from_millis(2),
            Outcome::Failure("timeout".into()),
        );
        recorder.record(
            false,
            Duration::ZERO,
            Duration::from_millis(2),
            Outcome::Failure("warm".into()),
        );
        assert_eq!((recorder.successes, recorder.failures), (0, 2));
        assert_eq!(recorder.first_failure.as_deref(), Some("503"));
        assert_eq!(recorder.histogram.len(), 0);
    }

    #[test]
    fn labelled_requests_are_counted_in_the_totals_and_per_kind() {
        let ms = Duration::from_millis;
        let mut recorder = Recorder::new();
        recorder.record_as("keyword", true, ms(0), ms(4), Outcome::Success);
        recorder.record_as(
            "similar",
            true,
            ms(0),
            ms(1),
            Outcome::Failure("501".into()),
        );
        recorder.record_as("keyword", false, ms(0), ms(9), Outcome::Success);
        let mut other = Recorder::new();
        other.record_as("keyword", true, ms(0), ms(2), Outcome::Success);
        other.record_as(
            "similar",
            true,
            ms(0),
            ms(1),
            Outcome::Failure("later".into()),
        );
        recorder.merge(&other);

        assert_eq!((recorder.successes, recorder.failures), (2, 2));
        let kinds: Vec<(&str, u64, u64)> = recorder
            .by_kind
            .iter()
            .map(|(k, r)| (k.as_str(), r.successes, r.failures))
            .collect();
        assert_eq!(kinds, vec![("keyword", 2, 0), ("similar", 0, 2)]);
        assert_eq!(
            recorder.by_kind["similar"].first_failure.as_deref(),
            Some("501")
        );
        assert_eq!(recorder.by_kind["keyword"].histogram.len(), 2);
        assert!(recorder.by_kind["keyword"].histogram.max() >= 4_000);
    }
}
