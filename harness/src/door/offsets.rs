//! Writing the clock offsets of a new time namespace, before anyone enters.

use nix::errno::Errno;

use crate::guard;
use crate::kind::NsType;
use crate::plan::TimeSettings;
use crate::view::ns;

fn render(settings: &TimeSettings) -> String {
    settings.render()
}

/// Refuse, sending the guard's event, unless the caller's
/// `time_for_children` namespace is a new one, not its own time namespace
/// (as it is when unshare(CLONE_NEWTIME) did nothing). The callers have
/// also checked it against the probe's origin.
fn ensure_new_for_children() -> Result<(), Errno> {
    let own = ns::id_of("self", "time");
    let children = ns::id_of("self", "time_for_children");
    if own.is_some() && children.is_some() && own != children {
        return Ok(());
    }
    let message = format!(
        "namespace not isolated: time_for_children is not a new time namespace \
         ({children:?}, own {own:?})"
    );
    Err(guard::refuse(NsType::Time, message).into())
}

/// Write the offsets of the caller's `time_for_children` namespace; each
/// write is refused unless that namespace is new.
pub fn write(settings: &TimeSettings) -> Result<(), Errno> {
    let text = render(settings);
    if text.is_empty() {
        return Ok(());
    }
    // One write per line: the kernel parses a single write as a whole and
    // some releases take only one clock per call.
    for line in text.lines() {
        ensure_new_for_children()?;
        std::fs::write("/proc/self/timens_offsets", format!("{line}\n"))
            .map_err(crate::sys::errno::io_errno)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Offset;
    use rstest::rstest;

    #[test]
    fn refuses_offsets_when_no_time_namespace_was_made() {
        let settings = TimeSettings {
            monotonic: Some(Offset(1, 0)),
            boottime: None,
        };
        let refusals = guard::sent();
        assert!(write(&settings).is_err());
        assert_eq!(
            guard::sent(),
            refusals + 1,
            "the refusal is sent as an event"
        );
    }

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
