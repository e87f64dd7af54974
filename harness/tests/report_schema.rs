//! The committed `reports/schema.json` must match the schema generated from `Report`.
//!
//! Regenerate it with `NSCONFORM_BLESS=1 cargo test --test report_schema`.

use std::path::PathBuf;

use nsconform::report::schema;

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
    let required = value["required"].as_array().expect("Report has required fields");
    for field in ["version", "environment", "summary", "trials"] {
        assert!(required.iter().any(|r| r == field), "{field} is not required");
    }
    assert!(value["$defs"]["TrialRecord"]["properties"]["verdict"].is_object());
}
