//! The JSON Schema of `report.json`, generated from the `Report` type.
//!
//! The committed copy lives at `reports/schema.json`; the `report_schema` test fails when
//! it is stale, and `NSCONFORM_BLESS=1 cargo test --test report_schema` rewrites it.

use crate::verdict::Report;

/// The schema of [`Report`].
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(Report)
}

/// The schema as pretty JSON with a trailing newline, as committed.
pub fn to_string() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("a schema is plain JSON");
    text.push('\n');
    text
}
