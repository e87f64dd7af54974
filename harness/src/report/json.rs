//! `report.json`: the whole report, versioned. The run's environment comes
//! first, then one trial per line (so that a run can write each as it
//! finishes, and a reader can grep or page through them), then the summary.

use std::io::Write;

use serde::Serialize;

use crate::verdict::{Environment, Report, SuiteId, Summary, TrialRecord, REPORT_VERSION};

use super::ReportError;

/// What comes before the trials.
pub fn write_head(
    out: &mut dyn Write,
    environment: &Environment,
    suite: Option<&SuiteId>,
) -> Result<(), ReportError> {
    write!(out, "{{\"version\": {REPORT_VERSION},\n\"environment\": ")?;
    serde_json::to_writer(&mut *out, environment)?;
    if let Some(suite) = suite {
        out.write_all(b",\n\"suite\": ")?;
        serde_json::to_writer(&mut *out, suite)?;
    }
    out.write_all(b",\n\"trials\": [")?;
    Ok(())
}

/// One trial, on a line of its own; `first` when no trial came before it.
pub fn write_trial(out: &mut dyn Write, t: &TrialRecord, first: bool) -> Result<(), ReportError> {
    out.write_all(if first { b"\n" } else { b",\n" })?;
    serde_json::to_writer(&mut *out, t)?;
    Ok(())
}

/// What comes after the trials, known once they are all in.
#[derive(Debug, Clone, Serialize)]
pub struct Tail<'a> {
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub kernel_log: &'a [String],
}

/// The end: the summary, and whether and why the run was stopped.
pub fn write_tail(out: &mut dyn Write, tail: &Tail) -> Result<(), ReportError> {
    out.write_all(b"\n],\n\"summary\": ")?;
    serde_json::to_writer(&mut *out, &tail.summary)?;
    if let Some(signal) = tail.interrupted {
        out.write_all(b",\n\"interrupted\": ")?;
        serde_json::to_writer(&mut *out, signal)?;
    }
    if !tail.kernel_log.is_empty() {
        out.write_all(b",\n\"kernel_log\": ")?;
        serde_json::to_writer(&mut *out, tail.kernel_log)?;
    }
    out.write_all(b"}\n")?;
    Ok(())
}

/// The tail of `report`.
pub fn tail_of(report: &Report) -> Tail<'_> {
    Tail {
        summary: report.summary,
        interrupted: report.interrupted.as_deref(),
        kernel_log: &report.kernel_log,
    }
}

/// Writes `report`: its head, each trial on a line, its tail.
pub fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    write_head(out, &report.environment, report.suite.as_ref())?;
    for (i, t) in report.trials.iter().enumerate() {
        write_trial(out, t, i == 0)?;
    }
    write_tail(out, &tail_of(report))
}

/// `report` as report.json's text.
pub fn to_string(report: &Report) -> Result<String, ReportError> {
    let mut out = Vec::new();
    write(report, &mut out)?;
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// Reads a `report.json`, refusing another format version with a clear message.
pub fn read(text: &str) -> Result<Report, ReportError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(REPORT_VERSION) => Ok(serde_json::from_value(value)?),
        _ => Err(ReportError::Version {
            found: value
                .get("version")
                .map_or_else(|| "missing".to_string(), |v| v.to_string()),
            expected: REPORT_VERSION,
        }),
    }
}

/// Reads the `report.json` at `path`.
pub fn read_file(path: &std::path::Path) -> Result<Report, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::at("read", path, e))?;
    read(&text).map_err(|e| ReportError::Invalid {
        path: path.to_path_buf(),
        cause: Box::new(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Environment;

    #[test]
    fn other_versions_are_refused() {
        let mut value = serde_json::to_value(Report::new(Environment::default(), vec![])).unwrap();
        value["version"] = 99.into();
        let err = read(&value.to_string()).unwrap_err();
        assert!(err.to_string().contains("version 99"), "{err}");
    }

    #[test]
    fn a_report_reads_back_as_written() {
        let mut t = TrialRecord::new("uts::a::clone", "host");
        t.views = Some(serde_json::json!({"inside": {"uts": {"hostname": "a\nb"}}}));
        let mut report = Report::new(Environment::default(), vec![t.clone(), t]);
        report.interrupted = Some("SIGINT".into());
        report.kernel_log = vec!["WARNING: x".into()];
        report.suite = Some(SuiteId::default());
        let text = to_string(&report).unwrap();
        assert_eq!(text.lines().count(), 10, "{text}");
        assert_eq!(read(&text).unwrap(), report);
        let empty = Report::new(Environment::default(), vec![]);
        assert_eq!(read(&to_string(&empty).unwrap()).unwrap(), empty);
    }
}
