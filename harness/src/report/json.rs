//! `report.json`: the whole report, versioned, as pretty JSON.

use std::io::Write;

use crate::verdict::{Report, REPORT_VERSION};

use super::ReportError;

/// Writes `report` as pretty JSON followed by a newline.
pub fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// `report` as pretty JSON.
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
}
