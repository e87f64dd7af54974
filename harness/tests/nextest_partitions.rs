//! The nextest partitions of CI (`.ci/nextest-partitions`, run before
//! `cargo test`): over `--partition hash:1/2` and `hash:2/2` of one archive,
//! every trial ran exactly once and the JUnit files merged without duplicates.

mod tool_support;

use std::path::Path;

#[test]
fn every_trial_ran_in_exactly_one_partition() {
    let result =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/nextest/partitions/check.txt");
    let Ok(text) = std::fs::read_to_string(&result) else {
        return tool_support::missing(
            "the nextest partition check",
            "run .ci/nextest-partitions (cargo-nextest) first",
        );
    };
    assert!(text.starts_with("ok: "), "{}: {text}", result.display());
}
