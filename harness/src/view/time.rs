//! The `time` section: time namespace offsets and what the clocks read.

use procfs::{FromRead, Uptime};
use serde::{Deserialize, Serialize};

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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

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

    #[test]
    fn clocks_are_read() {
        let view = observe();
        assert!(view.monotonic > 0.0 && view.boottime >= view.monotonic);
        assert!(view.realtime > 1.0e9);
        assert!(view.uptime.is_some());
    }
}
