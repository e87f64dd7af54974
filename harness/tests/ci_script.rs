//! `.ci/run` installs what the tests need on a fresh machine, each package
//! on its own, and then runs the README's test command.

use std::path::PathBuf;

fn read(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The packages of the script's `packages=( ... )` list, one a line.
fn packages(script: &str) -> Vec<String> {
    let start = script.find("packages=(").expect("a packages list");
    let body = &script[start + "packages=(".len()..];
    let body = &body[..body.find("\n)").expect("the end of the list")];
    body.lines()
        .filter_map(|l| l.split('#').next()?.split_whitespace().next())
        .map(String::from)
        .collect()
}

#[test]
fn every_tool_of_the_tests_is_installed_from_debian() {
    let script = read(".ci/run");
    let list = packages(&script);
    for p in [
        "chromium",
        "linux-source-6.12",
        "util-linux",
        "binutils",
        "python3",
        "python3-jsonschema",
    ] {
        assert!(
            list.iter().any(|l| l == p),
            "{p} is not installed: {list:?}"
        );
    }
    assert!(
        script.contains("python3 -m venv"),
        "without python3-jsonschema, jsonschema goes into a virtual environment"
    );
}

#[test]
fn each_package_is_installed_on_its_own() {
    let script = read(".ci/run");
    let installs: Vec<&str> = script
        .lines()
        .filter(|l| l.contains("apt-get install"))
        .collect();
    assert_eq!(
        installs.len(),
        1,
        "one install line, in a loop: {installs:?}"
    );
    assert!(installs[0].contains("\"$p\""), "{}", installs[0]);
    assert!(!installs[0].contains("${packages[@]}"), "{}", installs[0]);
    assert!(
        script.contains("could not install"),
        "it says what is missing"
    );
    assert!(script.contains("export CI=true"));
    assert!(
        !script.contains("set -e"),
        "a missing package must not stop the script"
    );
}

#[test]
fn it_runs_the_readme_test_command() {
    let script = read(".ci/run");
    let last = script.lines().rev().find(|l| !l.trim().is_empty());
    assert_eq!(last, Some("cargo test"));
    let readme = read("README.md");
    assert!(
        readme.contains("\ncargo test\n"),
        "the README's test command is `cargo test`"
    );
}
