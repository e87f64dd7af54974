//! The suite: the cases and fixtures found on disk, paired by type and name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::case::{parse_case, Case};
use crate::fixture::{parse_fixture, Fixture};
use crate::kind::NsType;
use crate::known_issue::{self, KnownIssue};

/// A case with its fixture, both read and valid.
#[derive(Debug, Clone)]
pub struct Entry {
    pub ty: NsType,
    pub name: String,
    pub case: Arc<Case>,
    pub fixture: Arc<Fixture>,
    /// The known issues that name this case.
    pub known_issues: Arc<[KnownIssue]>,
}

/// A file that could not be used, and why (with file, line and column).
#[derive(Debug, Clone)]
pub struct Problem {
    /// The type directory's name, as found.
    pub ty: String,
    pub name: String,
    pub message: String,
}

/// Everything found under the cases and fixtures directories.
#[derive(Debug, Default)]
pub struct Suite {
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
}

/// The `*.json` files of `dir/<type>/`, as (type directory, name, path).
fn json_files(dir: &Path) -> Result<Vec<(String, String, PathBuf)>, String> {
    let mut out = Vec::new();
    let types = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for ty in types.flatten().filter(|e| e.path().is_dir()) {
        let ty_name = ty.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(ty.path()).into_iter().flatten().flatten() {
            let path = file.path();
            if path.extension().is_some_and(|x| x == "json") {
                let stem = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                out.push((ty_name.clone(), stem, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))
}

fn load_pair(ty: NsType, case_path: &Path, fixture_path: &Path) -> Result<(Case, Fixture), String> {
    let case = parse_case(case_path, &read(case_path)?).map_err(|e| e.to_string())?;
    let fixture = parse_fixture(fixture_path, &read(fixture_path)?).map_err(|e| e.to_string())?;
    let _ = ty;
    Ok((case, fixture))
}

/// Read the suite. Nothing here is fatal: each unusable file is a problem.
pub fn load(cases: &Path, fixtures: &Path) -> Result<Suite, String> {
    let mut suite = Suite::default();
    let case_files = json_files(cases)?;
    let fixture_files = json_files(fixtures).unwrap_or_default();
    let case_keys: BTreeSet<(String, String)> = case_files
        .iter()
        .map(|(t, n, _)| (t.clone(), n.clone()))
        .collect();
    for (ty_name, name, path) in &case_files {
        let problem = |message: String| Problem {
            ty: ty_name.clone(),
            name: name.clone(),
            message,
        };
        let Some(ty) = NsType::from_name(ty_name) else {
            let known: Vec<&str> = NsType::all().map(NsType::name).collect();
            let msg = format!(
                "{}: unknown namespace type {ty_name:?} (known: {})",
                path.display(),
                known.join(", ")
            );
            suite.problems.push(problem(msg));
            continue;
        };
        let fixture_path = fixtures.join(ty_name).join(format!("{name}.json"));
        if !fixture_path.exists() {
            let msg = format!(
                "{}: the case has no fixture (expected {})",
                path.display(),
                fixture_path.display()
            );
            suite.problems.push(problem(msg));
            continue;
        }
        match load_pair(ty, path, &fixture_path) {
            Ok((case, fixture)) => suite.entries.push(Entry {
                ty,
                name: name.clone(),
                case: Arc::new(case),
                fixture: Arc::new(fixture),
                known_issues: Arc::new([]),
            }),
            Err(message) => suite.problems.push(problem(message)),
        }
    }
    for (ty_name, name, path) in fixture_files {
        if !case_keys.contains(&(ty_name.clone(), name.clone())) {
            let message = format!("{}: the fixture has no case", path.display());
            suite.problems.push(Problem {
                ty: ty_name,
                name,
                message,
            });
        }
    }
    attach_known_issues(&mut suite, &known_issues_path(cases));
    Ok(suite)
}

/// The known-issues file beside the cases directory.
pub fn known_issues_path(cases: &Path) -> PathBuf {
    cases
        .parent()
        .unwrap_or(Path::new("."))
        .join("known-issues.json")
}

/// Give each entry the known issues that name it; an unreadable file, or
/// an issue that names no case, is a problem.
fn attach_known_issues(suite: &mut Suite, path: &Path) {
    let problem = |name: &str, message: String| Problem {
        ty: "known-issues".into(),
        name: name.into(),
        message,
    };
    let issues = match known_issue::read(path) {
        Ok(issues) => issues,
        Err(e) => return suite.problems.push(problem("file", e.to_string())),
    };
    for issue in &issues {
        for t in &issue.trials {
            let named = suite.entries.iter().any(|e| {
                let (ty, name) = (e.ty.name(), e.name.as_str());
                issue.names_case(ty, name) && t.starts_with(&format!("{ty}::{name}"))
            });
            if !named {
                let m = format!(
                    "{}: issue {} names {t}, which is no case",
                    path.display(),
                    issue.id
                );
                suite.problems.push(problem(&issue.id, m));
            }
        }
    }
    for e in &mut suite.entries {
        let mine: Vec<KnownIssue> = issues
            .iter()
            .filter(|i| i.names_case(e.ty.name(), &e.name))
            .cloned()
            .collect();
        e.known_issues = mine.into();
    }
}

/// Where the suite's data is: `dir` if given, else `./<name>` when it
/// exists, else the directory of the source tree this binary was built from.
pub fn data_dir(given: Option<&Path>, name: &str) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_path_buf();
    }
    let here = PathBuf::from(name);
    if here.is_dir() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}
