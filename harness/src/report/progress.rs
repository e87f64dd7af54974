//! Progress of a run on stderr, fed one trial at a time.
//!
//! On a terminal: one line redrawn in place with the counts so far, and failures and
//! errors printed above it as they come. Elsewhere (CI logs, pipes): one plain line per
//! trial, `[12/340] pass uts::hostname-isolated::clone`. Quiet: nothing.

use std::io::{IsTerminal, Write};

use crate::verdict::{Summary, TrialRecord, Verdict};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing at all.
    Quiet,
    /// One plain line per trial.
    Lines,
    /// A single status line redrawn in place.
    Redraw,
}

impl Mode {
    /// `Quiet` if asked, `Redraw` when stderr is a terminal, `Lines` otherwise.
    pub fn for_stderr(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Redraw
        } else {
            Mode::Lines
        }
    }
}

/// A progress sink. Wrap it in a `Mutex` to feed it from several threads.
pub struct Progress<W: Write> {
    out: W,
    mode: Mode,
    total: usize,
    done: usize,
    counts: Summary,
    width: usize,
}

impl Progress<std::io::Stderr> {
    /// Progress on stderr for a run of `total` trials.
    pub fn stderr(total: usize, quiet: bool) -> Self {
        Progress::new(std::io::stderr(), Mode::for_stderr(quiet), total)
    }
}

impl<W: Write> Progress<W> {
    pub fn new(out: W, mode: Mode, total: usize) -> Self {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .filter(|&c: &usize| c >= 20)
            .unwrap_or(100);
        Progress {
            out,
            mode,
            total,
            done: 0,
            counts: Summary::default(),
            width,
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> Summary {
        self.counts
    }

    /// Records one finished trial. Progress is best-effort: write errors are ignored.
    pub fn record(&mut self, t: &TrialRecord) {
        self.done += 1;
        self.counts.add(t.verdict);
        let _ = match self.mode {
            Mode::Quiet => Ok(()),
            Mode::Lines => writeln!(self.out, "{}", self.plain_line(t)),
            Mode::Redraw => self.redraw(t),
        };
    }

    /// Ends the redrawn line, leaving the final counts on screen.
    pub fn finish(&mut self) {
        if self.mode == Mode::Redraw {
            let _ = writeln!(self.out);
        }
        let _ = self.out.flush();
    }

    /// `[12/340] pass uts::hostname-isolated::clone`, plus the reason when there is one.
    pub fn plain_line(&self, t: &TrialRecord) -> String {
        let mut line = format!("[{}/{}] {} {}", self.done, self.total, t.verdict, t.id);
        if t.target != "host" {
            line.push_str(&format!(" @{}", t.target));
        }
        if let (Verdict::Skip | Verdict::Error | Verdict::Fail | Verdict::Xpass, Some(reason)) =
            (t.verdict, &t.reason)
        {
            line.push_str(": ");
            line.push_str(&super::one_line(reason));
        } else if let (Verdict::Xfail, Some(issue)) = (t.verdict, &t.known_issue) {
            line.push_str(": ");
            line.push_str(&super::one_line(issue));
        }
        line
    }

    /// A bar of `width` cells, filled in proportion to the trials done.
    fn bar(&self, width: usize) -> String {
        let filled = (self.done * width)
            .checked_div(self.total)
            .unwrap_or(width)
            .min(width);
        format!("{}{}", "#".repeat(filled), "-".repeat(width - filled))
    }

    fn status_line(&self, t: &TrialRecord) -> String {
        let c = self.counts;
        let line = format!(
            "[{}] {}/{} {} pass, {} fail, {} skip, {} error  {}",
            self.bar(24),
            self.done,
            self.total,
            c.pass,
            c.fail,
            c.skip,
            c.error,
            t.id
        );
        line.chars().take(self.width.saturating_sub(1)).collect()
    }

    fn redraw(&mut self, t: &TrialRecord) -> std::io::Result<()> {
        // Carriage return, then erase the line.
        write!(self.out, "\r\x1b[2K")?;
        if matches!(t.verdict, Verdict::Fail | Verdict::Error | Verdict::Xpass) {
            writeln!(self.out, "{}", self.plain_line(t))?;
        }
        write!(self.out, "{}", self.status_line(t))?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn trial(verdict: Verdict, reason: Option<&str>) -> TrialRecord {
        TrialRecord {
            verdict,
            reason: reason.map(String::from),
            duration_ms: 1.0,
            ..TrialRecord::new("uts::hostname-isolated::clone", "host")
        }
    }

    fn run(mode: Mode, trials: &[TrialRecord]) -> String {
        let mut p = Progress::new(Vec::new(), mode, 340);
        for t in trials {
            p.record(t);
        }
        p.finish();
        String::from_utf8(p.out).unwrap()
    }

    #[rstest]
    #[case(Verdict::Pass, None, "[1/340] pass uts::hostname-isolated::clone\n")]
    #[case(
        Verdict::Skip,
        Some("no runc"),
        "[1/340] skip uts::hostname-isolated::clone: no runc\n"
    )]
    fn plain_lines(#[case] v: Verdict, #[case] reason: Option<&str>, #[case] want: &str) {
        assert_eq!(run(Mode::Lines, &[trial(v, reason)]), want);
    }

    #[test]
    fn quiet_is_silent() {
        assert_eq!(run(Mode::Quiet, &[trial(Verdict::Fail, None)]), "");
    }

    #[test]
    fn the_bar_fills_with_the_trials_done() {
        let mut p = Progress::new(Vec::new(), Mode::Redraw, 4);
        p.record(&trial(Verdict::Pass, None));
        p.record(&trial(Verdict::Pass, None));
        assert_eq!(p.bar(8), "####----");
        p.record(&trial(Verdict::Pass, None));
        p.record(&trial(Verdict::Pass, None));
        assert_eq!(p.bar(8), "########");
    }

    #[test]
    fn redraw_keeps_failures() {
        let out = run(
            Mode::Redraw,
            &[trial(Verdict::Pass, None), trial(Verdict::Fail, Some("x"))],
        );
        assert!(
            out.contains("\r\x1b[2K[2/340] fail uts::hostname-isolated::clone: x\n"),
            "{out:?}"
        );
        assert!(
            out.ends_with(
                "[------------------------] 2/340 1 pass, 1 fail, 0 skip, 0 error  uts::hostname-isolated::clone\n"
            ),
            "{out:?}"
        );
    }
}
