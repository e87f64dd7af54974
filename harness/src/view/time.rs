//! The `time` section: time namespace offsets and what the clocks read.

use std::sync::OnceLock;

use procfs::{FromRead, Uptime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The offsets of `/proc/self/timens_offsets`: `[seconds, nanoseconds]` per clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOffsets {
    pub monotonic: [i64; 2],
    pub boottime: [i64; 2],
}

/// The `time` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeView {
    /// `None` if the kernel has no time namespaces or the file cannot be read.
    pub offsets: Option<TimeOffsets>,
    /// `CLOCK_MONOTONIC`, in seconds.
    pub monotonic: f64,
    /// `CLOCK_BOOTTIME`, in seconds.
    pub boottime: f64,
    /// `CLOCK_REALTIME`, in seconds.
    pub realtime: f64,
    /// The first field of `/proc/uptime`.
    pub uptime: Option<f64>,
    /// How far each clock is from the initial time namespace's, measured:
    /// its change against `CLOCK_REALTIME` (which no time namespace shifts)
    /// since the probe started, plus the offsets the probe started with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<TimeShift>,
}

/// Measured shifts, in seconds rounded to the millisecond: in a time
/// namespace, the offsets written for it, however the clocks read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeShift {
    pub monotonic: Value,
    pub boottime: Value,
    pub uptime: Value,
}

/// Each clock minus `CLOCK_REALTIME`, in seconds, where the probe started,
/// less the offsets of the time namespace it started in.
static START: OnceLock<[f64; 3]> = OnceLock::new();

/// Monotonic, boottime and uptime, each minus the realtime clock read
/// around it.
fn against_realtime() -> [f64; 3] {
    let uptime = || {
        std::fs::read_to_string("/proc/uptime")
            .ok()
            .and_then(|t| parse_uptime(&t))
            .unwrap_or(0.0)
    };
    [
        against_realtime_of(|| clock_seconds(libc::CLOCK_MONOTONIC)),
        against_realtime_of(|| clock_seconds(libc::CLOCK_BOOTTIME)),
        against_realtime_of(uptime),
    ]
}

/// How many times a clock is read between two realtime readings.
const READINGS: usize = 5;

/// `read()` minus the realtime clock at the same moment: the midpoint of
/// the realtime readings just before and just after it, from the reading
/// with the narrowest window. An interrupt between two readings (a
/// millisecond and more under an emulator) would otherwise show as a shift.
fn against_realtime_of(read: impl Fn() -> f64) -> f64 {
    let mut best = (f64::INFINITY, 0.0);
    for _ in 0..READINGS {
        let before = clock_seconds(libc::CLOCK_REALTIME);
        let clock = read();
        let after = clock_seconds(libc::CLOCK_REALTIME);
        let window = after - before;
        if window < best.0 {
            best = (window, clock - (before + after) / 2.0);
        }
    }
    best.1
}

/// Records the clocks where the probe starts, before any door: the zero
/// of every `shift`. Called once at the top of the probe's `main`.
pub fn mark_start() {
    let _ = START.get_or_init(|| {
        let [m, b, u] = against_realtime();
        let offsets = std::fs::read_to_string("/proc/self/timens_offsets")
            .ok()
            .and_then(|t| parse_offsets(&t));
        let secs = |o: Option<[i64; 2]>| o.map_or(0.0, |[s, n]| s as f64 + n as f64 / 1e9);
        let (om, ob) = (
            secs(offsets.map(|o| o.monotonic)),
            secs(offsets.map(|o| o.boottime)),
        );
        [m - om, b - ob, u - ob]
    });
}

/// Seconds rounded to the millisecond; whole seconds as an integer.
fn seconds(x: f64) -> Value {
    let ms = (x * 1000.0).round();
    if ms % 1000.0 == 0.0 {
        Value::from((ms / 1000.0) as i64)
    } else {
        Value::from(ms / 1000.0)
    }
}

/// The shift of the calling process's clocks since [`mark_start`].
fn shift() -> Option<TimeShift> {
    let start = START.get()?;
    let now = against_realtime();
    // /proc/uptime has a resolution of 10 ms: round it to the second.
    let uptime = Value::from((now[2] - start[2]).round() as i64);
    Some(TimeShift {
        monotonic: seconds(now[0] - start[0]),
        boottime: seconds(now[1] - start[1]),
        uptime,
    })
}

/// Parse a `timens_offsets` text. Clocks may be named (`monotonic`,
/// `boottime`) or numbered (1, 7); both must be present.
pub fn parse_offsets(text: &str) -> Option<TimeOffsets> {
    let (mut monotonic, mut boottime) = (None, None);
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [clock, secs, nanos] = fields[..] else {
            continue;
        };
        let (Ok(secs), Ok(nanos)) = (secs.parse::<i64>(), nanos.parse::<i64>()) else {
            continue;
        };
        let value = [secs, nanos];
        match clock {
            "monotonic" | "1" => monotonic = Some(value),
            "boottime" | "7" => boottime = Some(value),
            _ => {}
        }
    }
    Some(TimeOffsets {
        monotonic: monotonic?,
        boottime: boottime?,
    })
}

/// Parse `/proc/uptime`: its first field.
pub fn parse_uptime(text: &str) -> Option<f64> {
    Uptime::from_read(text.as_bytes()).ok().map(|u| u.uptime)
}

/// Read clock `id` in seconds; 0.0 if the clock cannot be read.
fn clock_seconds(id: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// Observe the `time` section of the calling process.
pub fn observe() -> TimeView {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    TimeView {
        offsets: read("/proc/self/timens_offsets").and_then(|t| parse_offsets(&t)),
        monotonic: clock_seconds(libc::CLOCK_MONOTONIC),
        boottime: clock_seconds(libc::CLOCK_BOOTTIME),
        realtime: clock_seconds(libc::CLOCK_REALTIME),
        uptime: read("/proc/uptime").and_then(|t| parse_uptime(&t)),
        shift: shift(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    #[rstest]
    #[case("monotonic           0         0\nboottime            0         0\n", Some(([0, 0], [0, 0])))]
    #[case("monotonic       -3600         0\nboottime       86400 500000000\n", Some(([-3600, 0], [86400, 500000000])))]
    #[case("1 10 0\n7 20 0\n", Some(([10, 0], [20, 0])))]
    #[case("monotonic 0 0\n", None)]
    #[case("monotonic x 0\nboottime 0 0\n", None)]
    #[case("", None)]
    fn parses_offsets(#[case] text: &str, #[case] expected: Option<([i64; 2], [i64; 2])>) {
        let got = parse_offsets(text).map(|o| (o.monotonic, o.boottime));
        assert_eq!(got, expected);
    }

    #[rstest]
    #[case("431.23 718.31\n", Some(431.23))]
    #[case("", None)]
    fn parses_uptime(#[case] text: &str, #[case] expected: Option<f64>) {
        assert_eq!(parse_uptime(text), expected);
    }

    #[rstest]
    #[case(86400.0002, json!(86400))]
    #[case(-3599.9996, json!(-3600))]
    #[case(0.25, json!(0.25))]
    fn shifts_are_rounded_to_the_millisecond(#[case] x: f64, #[case] want: Value) {
        assert_eq!(seconds(x), want);
    }

    #[test]
    fn the_shift_where_the_probe_started_is_its_offsets() {
        mark_start();
        let view = observe();
        let s = view.shift.unwrap();
        let o = view.offsets.map_or([0, 0], |o| o.monotonic);
        assert_eq!(s.monotonic, seconds(o[0] as f64 + o[1] as f64 / 1e9));
    }

    #[test]
    fn clocks_are_read() {
        let view = observe();
        assert!(view.monotonic > 0.0 && view.boottime >= view.monotonic);
        assert!(view.realtime > 1.0e9);
        assert!(view.uptime.is_some());
    }
}
