//! The JSON, JUnit and Markdown writers and `write_all`, on a report with every verdict.

mod report_support;

use std::collections::BTreeMap;

use nsconform::report::{self, json, junit, markdown, Format};
use nsconform::verdict::{Summary, Verdict};

#[test]
fn synthetic_report_has_every_verdict() {
    let r = report_support::report();
    assert_eq!(r.summary, report_support::expected_summary());
    assert!(Verdict::ALL
        .iter()
        .all(|v| r.trials.iter().any(|t| t.verdict == *v)));
}

#[test]
fn json_round_trips() {
    let r = report_support::report();
    let text = json::to_string(&r).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["version"], 1);
    assert_eq!(json::read(&text).unwrap(), r);
}

/// Counts of testcases by outcome in one `<testsuite>`, as read by roxmltree.
fn count_cases(suite: roxmltree::Node) -> Summary {
    let mut s = Summary::default();
    for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
        let child = |tag| case.children().any(|n| n.has_tag_name(tag));
        let property = |value| {
            case.descendants().any(|n| {
                n.has_tag_name("property")
                    && n.attribute("name") == Some("verdict")
                    && n.attribute("value") == Some(value)
            })
        };
        s.add(if property("xfail") {
            Verdict::Xfail
        } else if property("xpass") {
            Verdict::Xpass
        } else if child("failure") {
            Verdict::Fail
        } else if child("error") {
            Verdict::Error
        } else if child("skipped") {
            Verdict::Skip
        } else {
            Verdict::Pass
        });
    }
    s
}

fn attr(node: roxmltree::Node, name: &str) -> usize {
    node.attribute(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .parse()
        .unwrap()
}

#[test]
fn junit_parses_and_counts_match() {
    let r = report_support::report();
    let xml = junit::to_string(&r).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(attr(root, "tests"), r.summary.total());
    assert_eq!(attr(root, "failures"), r.summary.fail);
    assert_eq!(attr(root, "errors"), r.summary.error);
    let mut total = Summary::default();
    let mut names = BTreeMap::new();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let ty = suite.attribute("name").unwrap();
        let counted = count_cases(suite);
        assert_eq!(attr(suite, "tests"), counted.total());
        assert_eq!(attr(suite, "skipped"), counted.skip + counted.xfail);
        assert!(suite.attribute("time").is_some());
        let want = report_support::summary_of(r.trials.iter().filter(|t| t.ty == ty));
        assert_eq!(counted, want, "suite {ty}");
        for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
            assert_eq!(
                case.attribute("classname"),
                Some(format!("nsconform.{ty}").as_str())
            );
            assert_eq!(case.attribute("time"), Some("0.001"));
            names.insert(format!("{ty}::{}", case.attribute("name").unwrap()), case);
        }
        total.pass += counted.pass;
        total.fail += counted.fail;
        total.skip += counted.skip;
        total.error += counted.error;
        total.xfail += counted.xfail;
        total.xpass += counted.xpass;
    }
    total.checks = r.summary.checks;
    assert_eq!(total, r.summary);
    assert_eq!(names.len(), r.trials.len());

    let failed = names["uts::isolated::unshare"];
    let failure = failed
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    let text = failure.text().unwrap();
    assert!(text.contains("inside.uts.hostname"), "{text}");
    assert!(text.contains("<script>alert(1)</script>"), "{text}");
    let skipped = names["ipc::isolated::runc"];
    let skip = skipped
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .unwrap();
    assert_eq!(
        skip.attribute("message"),
        Some("runtime not installed: runc")
    );
    let broken = names["pid::isolated::clone"];
    let error = broken.children().find(|n| n.has_tag_name("error")).unwrap();
    assert!(error.attribute("message").unwrap().contains("SIGKILL"));
    let stderr = broken
        .children()
        .find(|n| n.has_tag_name("system-err"))
        .unwrap();
    assert!(stderr.text().unwrap().contains("<boom> & more"));
}

#[test]
fn markdown_has_table_diff_skips_and_environment() {
    let r = report_support::report();
    let md = markdown::to_string(&r);
    assert!(
        md.contains(
            "| type | ✅ pass | ❌ fail | ⏭️ skip | 💥 error | 🔶 xfail | ❗ xpass | total |"
        ),
        "{md}"
    );
    assert!(md.contains("| `uts` | 3 | 1 | 2 | 0 | 0 | 0 | 6 |"), "{md}");
    assert!(
        md.contains("| **total** | 11 | 1 | 9 | 1 | 1 | 1 | 24 |"),
        "{md}"
    );
    assert!(md.contains("## 🔶 Known issues (xfail, 1)"), "{md}");
    assert!(md.contains("xpass, 1)"), "{md}");
    assert!(md.contains("```diff\n--- expected\n+++ observed\n"), "{md}");
    assert!(md.contains("-      \"hostname\": \"nsconform-a\""), "{md}");
    assert!(
        md.contains("+      \"hostname\": \"<script>alert(1)</script> # | `x`\""),
        "{md}"
    );
    assert!(md.contains("| runtime not installed: runc (8) |"), "{md}");
    assert!(
        md.contains("| CLONE_NEWTIME cannot be passed to clone(2) (1) | `time::isolated::clone` |"),
        "{md}"
    );
    assert!(
        md.contains("| kernel release | `6.18.0-nsconform` |"),
        "{md}"
    );
    assert!(
        md.contains("## ⚠️ Kernel log during the run (1 line)"),
        "{md}"
    );
    assert!(md.contains("probe killed by signal 9"), "{md}");
    // Outside code blocks, no raw HTML from the report reaches the page.
    let outside_code: String = md.split("```").step_by(2).collect();
    assert!(!outside_code.contains("<script>"), "{md}");
}

#[test]
fn write_all_writes_every_format_and_latest_follows() {
    let r = report_support::report();
    let root = tempfile::tempdir().unwrap();
    let first = report::create_run_dir(root.path()).unwrap();
    let second = report::create_run_dir(root.path()).unwrap();
    assert_ne!(first, second, "two runs in one second get two directories");
    let name = first.file_name().unwrap().to_str().unwrap();
    assert_eq!(name.len(), "20261129T013000Z".len(), "{name}");
    let formats = Format::parse_list("json,junit,ktap,md,html").unwrap();
    let written = report::write_all(&r, &first, &formats).unwrap();
    let names: Vec<_> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "report.json",
            "junit.xml",
            "report.ktap",
            "summary.md",
            "matrix.html"
        ]
    );
    for p in &written {
        assert!(std::fs::metadata(p).unwrap().len() > 100, "{}", p.display());
    }
    let latest = report::point_latest(root.path(), &first).unwrap();
    assert_eq!(
        std::fs::read_link(&latest).unwrap(),
        first.strip_prefix(root.path()).unwrap()
    );
    report::point_latest(root.path(), &second).unwrap();
    assert_eq!(
        std::fs::read_link(&latest).unwrap(),
        second.strip_prefix(root.path()).unwrap()
    );
    let back = json::read_file(&latest.join("report.json"));
    assert!(back.is_err(), "the second run wrote nothing yet");
    let back = json::read_file(&first.join("report.json")).unwrap();
    assert_eq!(back, r);
}

#[test]
#[ignore = "writes the synthetic report's files for a person to look at"]
fn write_sample_files() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sample-report");
    report::write_all(&report_support::report(), &dir, &Format::ALL).unwrap();
    eprintln!("wrote {}", dir.display());
}
