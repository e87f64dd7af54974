//! Faults: probes that hang, crash or lie, and cases and fixtures that are
//! broken, each become an `error` trial that says what broke; nothing panics.

mod support_rel;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nsconform::run::{self, Config, Filter, Trial};
use nsconform::verdict::{TrialRecord, Verdict};
use serde_json::{json, Value};
use support_rel::*;

/// The trial the fake probes are given.
const TRIAL: &str = "uts::hostname-isolated::clone";

fn the_trial() -> Trial {
    let suite = nsconform::suite::load(&source_dir("cases"), &source_dir("fixtures"))
        .expect("the suite loads");
    let filter = Filter {
        case: Some(TRIAL.into()),
        ..Filter::default()
    };
    let environment = nsconform::env::probe("host");
    let trials = run::trials(&suite, &filter, &environment);
    let trial = trials.into_iter().find(|t| t.id() == TRIAL);
    trial.expect("the suite has the trial")
}

/// Write an executable shell script `name` with `body` into `dir`.
fn fake_probe(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write the fake probe");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// Run [`TRIAL`] through `stand_in`, run in the probe's place, with a
/// one-second timeout.
fn run_with(stand_in: PathBuf) -> TrialRecord {
    let config = Config {
        probe: probe(),
        stand_in: Some(stand_in),
        timeout: Duration::from_secs(1),
        jobs: 1,
        full_views: false,
        environment: nsconform::env::probe("host"),
    };
    run::execute(&the_trial(), &config)
}

fn assert_error(record: &TrialRecord, words: &str) {
    let reason = record.reason.clone().unwrap_or_default();
    assert_eq!(record.verdict, Verdict::Error, "{reason}");
    assert!(
        reason.contains(words),
        "the reason {reason:?} does not say {words:?}"
    );
}

#[test]
fn a_hung_probe_is_killed_with_its_children() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pidfile = dir.path().join("child.pid");
    let body = format!("sleep 1000 &\necho $! > {}\nwait", pidfile.display());
    let record = run_with(fake_probe(dir.path(), "hang", &body));
    assert_error(&record, "timeout");
    let text = std::fs::read_to_string(&pidfile).expect("the child's pid");
    let pid: i32 = text.trim().parse().expect("a pid");
    assert!(
        wait_dead(pid, Duration::from_secs(5)),
        "the hung probe's child {pid} is still alive"
    );
}

#[test]
fn a_crashed_probe_is_an_error_naming_the_signal() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let record = run_with(fake_probe(dir.path(), "segv", "kill -SEGV $$"));
    assert_error(&record, "SIGSEGV");
}

#[test]
fn a_probe_printing_garbage_is_quoted() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let body = "cat > /dev/null\necho 'this is not json {'";
    let record = run_with(fake_probe(dir.path(), "garbage", body));
    assert_error(&record, "this is not json {");
}

#[test]
fn a_probe_printing_truncated_json_is_quoted() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let body = r#"printf '{"door": {}, "views": {"inside": {"uts": '"#;
    let record = run_with(fake_probe(dir.path(), "truncated", body));
    assert_error(
        &record,
        r#"{\"door\": {}, \"views\": {\"inside\": {\"uts\": "#,
    );
}

/// A tree of cases and fixtures to load.
struct Tree {
    root: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            root: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn cases(&self) -> PathBuf {
        self.root.path().join("cases")
    }

    fn fixtures(&self) -> PathBuf {
        self.root.path().join("fixtures")
    }

    fn write(&self, file: &Path, text: &str) {
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }

    /// Write a case (and, unless `None`, its fixture) of type `ty`.
    fn pair(&self, ty: &str, name: &str, case: Option<&str>, fixture: Option<&str>) {
        if let Some(text) = case {
            self.write(&self.cases().join(ty).join(format!("{name}.json")), text);
        }
        if let Some(text) = fixture {
            self.write(&self.fixtures().join(ty).join(format!("{name}.json")), text);
        }
    }
}

/// A case or fixture of the real suite, as JSON.
fn template(dir: &str, ty: &str, name: &str) -> Value {
    let path = source_dir(dir).join(ty).join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("a template");
    serde_json::from_str(&text).expect("a template that is JSON")
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON")
}

/// The bad files, by the name that the error must mention, and whether the
/// format gives a position (line:column) for the problem.
fn write_bad_tree(tree: &Tree) -> Vec<(String, bool)> {
    let case = template("cases", "uts", "hostname-isolated");
    let fixture = pretty(&template("fixtures", "uts", "hostname-isolated"));
    let fix = Some(fixture.as_str());
    tree.pair("uts", "good", Some(&pretty(&case)), fix);
    let variant = |change: &dyn Fn(&mut Value)| {
        let mut c = case.clone();
        change(&mut c);
        pretty(&c)
    };
    let mut bad = Vec::new();
    let mut add = |ty: &str, name: &str, c: Option<&str>, f: Option<&str>, pos: bool| {
        tree.pair(ty, name, c, f);
        bad.push((format!("{name}.json"), pos));
    };
    add(
        "uts",
        "invalid-json",
        Some("{\n  \"about\": \"x\",\n  \"namespaces\": {\n"),
        fix,
        true,
    );
    let unknown_key = variant(&|c| c["bogus"] = json!(1));
    add("uts", "unknown-key", Some(&unknown_key), fix, true);
    let wrong_type = variant(&|c| c["observe"] = json!("inside"));
    add("uts", "wrong-type", Some(&wrong_type), fix, true);
    let matcher = pretty(&json!({"inside": {"uts": {"hostname": {"$bogus": 1}}}}));
    add(
        "uts",
        "unknown-matcher",
        Some(&pretty(&case)),
        Some(&matcher),
        true,
    );
    let door = variant(&|c| c["doors"] = json!(["teleport"]));
    add("uts", "unknown-door", Some(&door), fix, true);
    let step = variant(&|c| c["steps"] = json!([{"levitate": "x"}]));
    add("uts", "unknown-step", Some(&step), fix, true);
    add("quantum", "unknown-type", Some(&pretty(&case)), fix, false);
    add("uts", "without-fixture", Some(&pretty(&case)), None, false);
    add("uts", "without-case", None, fix, false);
    let long = variant(&|c| c["steps"] = json!([{"sethostname": "a".repeat(100_000)}]));
    add("uts", "long-hostname", Some(&long), fix, true);
    let lines: Vec<Value> = (0..10_000).map(|i| json!([i, 100_000 + i, 1])).collect();
    let map = variant(&|c| {
        c["namespaces"] = json!({"user": {"uid_map": lines, "gid_map": [[0, "caller", 1]]}});
        c["steps"] = json!([]);
    });
    add("user", "huge-map", Some(&map), fix, true);
    let mnt = template("cases", "mnt", "tmpfs-mount-isolated");
    let mut etc = mnt.clone();
    etc["steps"] = json!([{"mount": {"fstype": "tmpfs", "target": "/etc"}}]);
    add("mnt", "mount-on-etc", Some(&pretty(&etc)), fix, true);
    bad
}

#[test]
fn broken_cases_and_fixtures_are_errors_that_say_where() {
    let tree = Tree::new();
    let bad = write_bad_tree(&tree);
    let reports = tempfile::tempdir().expect("a temporary directory");
    let mut child = Command::new(nsconform())
        .arg("run")
        .arg("--cases")
        .arg(tree.cases())
        .arg("--fixtures")
        .arg(tree.fixtures())
        .arg("--report-dir")
        .arg(reports.path())
        .args(["-q", "-j", "2", "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nsconform run");
    let status = wait_bounded(&mut child, Duration::from_secs(120)).expect("the run ends");
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert!(!stderr.contains("panicked"), "a panic:\n{stderr}");
    assert_eq!(status.code(), Some(1), "{status}; stderr:\n{stderr}");
    let text = std::fs::read_to_string(reports.path().join("report.json")).expect("report.json");
    let report: Value = serde_json::from_str(&text).expect("report.json is JSON");
    let trials = report["trials"].as_array().expect("trials");
    check_trials(trials, &bad);
}

fn check_trials(trials: &[Value], bad: &[(String, bool)]) {
    let reason = |t: &Value| t["reason"].as_str().unwrap_or("").to_string();
    let errors: Vec<&Value> = trials.iter().filter(|t| t["verdict"] == "error").collect();
    let mut problems = Vec::new();
    for (file, positioned) in bad {
        let hits: Vec<String> = errors
            .iter()
            .map(|t| reason(t))
            .filter(|r| r.contains(&format!("/{file}")))
            .collect();
        let position = regex::Regex::new(&format!(r"{}:\d+:\d+", regex::escape(file))).unwrap();
        match hits.as_slice() {
            [one] if !positioned || position.is_match(one) => {}
            _ => problems.push(format!("{file}: error trials {hits:#?}")),
        }
    }
    let good: Vec<&Value> = trials
        .iter()
        .filter(|t| t["case"] == "good" && t["type"] == "uts")
        .collect();
    assert!(!good.is_empty(), "no trial of the good case");
    for t in good {
        if t["verdict"] != "pass" {
            problems.push(format!("the good case: {}: {}", t["id"], reason(t)));
        }
    }
    let expected = bad.len();
    if errors.len() != expected {
        let all: Vec<String> = errors.iter().map(|t| reason(t)).collect();
        problems.push(format!(
            "{} error trials, not {expected}: {all:#?}",
            errors.len()
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A trial whose plan is larger than a pipe holds (64 KiB).
fn a_large_trial(tree: &Tree) -> Trial {
    let mut case = template("cases", "uts", "hostname-isolated");
    let steps: Vec<Value> = (0..32)
        .map(|i| json!({"sethostname": format!("{i}{}", "h".repeat(4000))}))
        .collect();
    case["steps"] = json!(steps);
    let fixture = pretty(&template("fixtures", "uts", "hostname-isolated"));
    tree.pair("uts", "large", Some(&pretty(&case)), Some(&fixture));
    let suite = nsconform::suite::load(&tree.cases(), &tree.fixtures()).expect("the suite loads");
    let environment = nsconform::env::probe("host");
    let trials = run::trials(&suite, &Filter::default(), &environment);
    let trial = trials.into_iter().find(|t| t.id() == "uts::large::clone");
    trial.expect("the large trial")
}

#[test]
fn a_probe_that_never_reads_its_plan_still_times_out() {
    let tree = Tree::new();
    let trial = a_large_trial(&tree);
    let pidfile = tree.root.path().join("probe.pid");
    let body = format!("echo $$ > {}\nexec sleep 1000", pidfile.display());
    let config = Config {
        probe: probe(),
        stand_in: Some(fake_probe(tree.root.path(), "deaf", &body)),
        timeout: Duration::from_secs(1),
        jobs: 1,
        full_views: false,
        environment: nsconform::env::probe("host"),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(run::execute(&trial, &config));
    });
    let record = rx.recv_timeout(Duration::from_secs(10));
    if record.is_err() {
        // Unblock the harness: end the fake probe this test started.
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    let _ = worker.join();
    let record = record.expect("the harness returns within the timeout, not blocked on stdin");
    assert_error(&record, "timeout");
}

#[test]
fn a_spawner_that_dies_is_an_error_and_the_next_trial_gets_another() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // The stand-in's parent is the spawner that forked it; nothing else
    // is killed.
    let body = "[ \"$(cat /proc/$PPID/comm)\" = nsconform-probe ] && kill -KILL $PPID\nsleep 1000";
    let record = run_with(fake_probe(dir.path(), "parricide", body));
    assert_error(&record, "the spawner that started it is gone");
    let config = Config {
        probe: probe(),
        stand_in: None,
        timeout: Duration::from_secs(20),
        jobs: 1,
        full_views: false,
        environment: nsconform::env::probe("host"),
    };
    let record = run::execute(&the_trial(), &config);
    assert_eq!(record.verdict, Verdict::Pass, "{:?}", record.reason);
}
