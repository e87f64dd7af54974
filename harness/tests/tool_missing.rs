//! A harness test whose tool is missing skips on a developer's machine and
//! fails with `CI=true` (the one helper every such test uses).

mod tool_support;

#[test]
fn a_missing_tool_fails_under_ci_and_skips_elsewhere() {
    // The only test of this binary: it alone changes the environment.
    std::env::set_var("CI", "true");
    let under_ci = std::panic::catch_unwind(|| tool_support::missing("a-tool", "test"));
    assert!(under_ci.is_err(), "CI=true: a missing tool is a failure");
    std::env::remove_var("CI");
    let elsewhere = std::panic::catch_unwind(|| tool_support::missing("a-tool", "test"));
    assert!(elsewhere.is_ok(), "without CI: a skip");
}
