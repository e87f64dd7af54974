//! Writing the clock offsets of a new time namespace, before anyone enters.

use nix::errno::Errno;

use crate::plan::TimeSettings;

/// The text written to `timens_offsets` for these settings.
pub fn render(settings: &TimeSettings) -> String {
    let mut text = String::new();
    for (clock, offset) in [
        ("monotonic", settings.monotonic),
        ("boottime", settings.boottime),
    ] {
        if let Some(o) = offset {
            text.push_str(&format!("{clock} {} {}\n", o.0, o.1));
        }
    }
    text
}

/// Write the offsets of the caller's `time_for_children` namespace.
pub fn write(settings: &TimeSettings) -> Result<(), Errno> {
    let text = render(settings);
    if text.is_empty() {
        return Ok(());
    }
    // One write per line: the kernel parses a single write as a whole and
    // some releases take only one clock per call.
    for line in text.lines() {
        std::fs::write("/proc/self/timens_offsets", format!("{line}\n"))
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Offset;
    use rstest::rstest;

    #[rstest]
    #[case(None, None, "")]
    #[case(Some(Offset(86400, 0)), None, "monotonic 86400 0\n")]
    #[case(Some(Offset(-5, 10)), Some(Offset(7, 0)), "monotonic -5 10\nboottime 7 0\n")]
    fn renders_offsets(
        #[case] mono: Option<Offset>,
        #[case] boot: Option<Offset>,
        #[case] text: &str,
    ) {
        let s = TimeSettings {
            monotonic: mono,
            boottime: boot,
        };
        assert_eq!(render(&s), text);
    }
}
