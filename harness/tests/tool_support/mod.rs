//! The one way a harness test meets a missing tool (chromium, python3 with
//! jsonschema, the kernel's kunit_parser.py, setpriv): on a developer's
//! machine it says so where the test runner shows it and the check is
//! skipped; with `CI=true` the test fails, because CI installs every tool.

#![allow(dead_code)]

use std::io::Write;

/// Whether this is a CI run (`CI=true`, as CI systems set it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `tool` is missing (`why`, with how to install it). Panics under CI;
/// elsewhere writes a SKIP line straight to the standard error (which the
/// test runner does not capture) and returns, so that the caller returns.
pub fn missing(tool: &str, why: &str) {
    assert!(
        !in_ci(),
        "{tool} is missing ({why}); with CI=true this check may not be skipped"
    );
    let line = format!("SKIP: {tool} is missing: {why}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}
