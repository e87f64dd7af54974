//! The committed `reports/schema.json` must match the schema generated from `Report`.
//!
//! Regenerate it with `NSCONFORM_BLESS=1 cargo test --test report_schema`.

mod report_support;
mod tool_support;

use std::path::PathBuf;
use std::process::Command;

use nsconform::report::{json, schema};

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reports/schema.json")
}

#[test]
fn committed_schema_is_current() {
    let path = committed_path();
    let generated = schema::to_string();
    if std::env::var_os("NSCONFORM_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write reports/schema.json");
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "reports/schema.json is stale or missing: the Report type changed.\n\
         Regenerate it with `NSCONFORM_BLESS=1 cargo test --test report_schema` and commit it."
    );
}

#[test]
fn schema_describes_the_report() {
    let value: serde_json::Value = serde_json::from_str(&schema::to_string()).unwrap();
    let required = value["required"]
        .as_array()
        .expect("Report has required fields");
    for field in ["version", "environment", "summary", "trials"] {
        assert!(
            required.iter().any(|r| r == field),
            "{field} is not required"
        );
    }
    let trial = &value["$defs"]["TrialRecord"]["properties"];
    assert!(trial["verdict"].is_object());
    let views = trial["views"]["description"].as_str().unwrap_or("");
    let views = views.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        views.contains("only what its fixture judged") && views.contains("whole views"),
        "the schema does not say which views a report keeps: {views}"
    );
}

/// The synthetic report, as written to report.json, is valid against the schema
/// (checked by Python's `jsonschema`; without it skipped with a printed reason, or
/// with `CI=true` a failure).
#[test]
fn report_json_is_valid_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let schema_path = dir.path().join("schema.json");
    let report_path = dir.path().join("report.json");
    std::fs::write(&schema_path, schema::to_string()).unwrap();
    std::fs::write(
        &report_path,
        json::to_string(&report_support::report()).unwrap(),
    )
    .unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/schema_check.py");
    let run = match Command::new("python3")
        .arg(script)
        .arg(&schema_path)
        .arg(&report_path)
        .output()
    {
        Ok(run) => run,
        Err(e) => {
            tool_support::missing("python3", &format!("{e}; apt-get install -y python3"));
            return;
        }
    };
    let (stdout, stderr) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    if run.status.code() == Some(77) {
        tool_support::missing("python3's jsonschema", &stderr);
        return;
    }
    assert!(
        run.status.success(),
        "report.json does not match the schema:\n{stdout}{stderr}"
    );
}
