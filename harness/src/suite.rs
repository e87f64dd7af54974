//! The suite: the cases and fixtures, built into the binary or read from
//! directories, paired by type and name, with a hash saying which suite it is.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::case::{parse_case, Case};
use crate::fixture::{parse_fixture, Fixture};
use crate::format_error::FormatError;
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

/// Why a case or fixture file, or a whole directory, cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// A directory of the suite could not be listed.
    #[error("failed to read the directory {}: {cause} (give another with --{flag})", path.display())]
    Dir {
        path: PathBuf,
        flag: &'static str,
        cause: String,
    },
    /// A file could not be read.
    #[error("failed to read {}: {cause}", path.display())]
    Read { path: PathBuf, cause: String },
    /// A case's type directory is not a namespace type.
    #[error("{}: unknown namespace type {ty:?} (known: {})", path.display(), known_types())]
    UnknownType { path: PathBuf, ty: String },
    /// A case without its fixture.
    #[error("{}: the case has no fixture (expected {})", case.display(), expected.display())]
    NoFixture { case: PathBuf, expected: PathBuf },
    /// A fixture without its case.
    #[error("{}: the fixture has no case", fixture.display())]
    NoCase { fixture: PathBuf },
    /// A known issue names a trial of no case.
    #[error("{}: issue {issue} names {trial}, which is no case", path.display())]
    UnknownTrial {
        path: PathBuf,
        issue: String,
        trial: String,
    },
    /// A file that is not a valid case or fixture, with file, line and column.
    #[error(transparent)]
    Format(#[from] FormatError),
}

fn known_types() -> String {
    NsType::all()
        .map(NsType::name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file that could not be used, and why (with file, line and column).
#[derive(Debug, Clone)]
pub struct Problem {
    /// The type directory's name, as found.
    pub ty: String,
    pub name: String,
    pub error: LoadError,
}

pub use crate::verdict::SuiteId;

/// Everything found in the cases and fixtures.
#[derive(Debug, Default)]
pub struct Suite {
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
    pub id: SuiteId,
}

/// One JSON file of a suite: `<type>/<name>.json` under `cases` or `fixtures`.
#[derive(Debug, Clone)]
pub struct SuiteFile {
    pub ty: String,
    pub name: String,
    /// Where it is, as shown in messages.
    pub path: PathBuf,
    pub text: Result<String, LoadError>,
}

/// The `*.json` files of `dir/<type>/`, in order.
fn json_files(dir: &Path, flag: &'static str) -> Result<Vec<SuiteFile>, LoadError> {
    let mut out = Vec::new();
    let types = std::fs::read_dir(dir).map_err(|e| LoadError::Dir {
        path: dir.to_path_buf(),
        flag,
        cause: e.to_string(),
    })?;
    for ty in types.flatten().filter(|e| e.path().is_dir()) {
        let ty_name = ty.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(ty.path()).into_iter().flatten().flatten() {
            let path = file.path();
            if path.extension().is_some_and(|x| x == "json") {
                let name = path.file_stem().unwrap_or_default();
                out.push(SuiteFile {
                    ty: ty_name.clone(),
                    name: name.to_string_lossy().into_owned(),
                    text: std::fs::read_to_string(&path).map_err(|e| LoadError::Read {
                        path: path.clone(),
                        cause: e.to_string(),
                    }),
                    path,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.ty, &a.name).cmp(&(&b.ty, &b.name)));
    Ok(out)
}

fn text(file: &SuiteFile) -> Result<&str, LoadError> {
    file.text.as_deref().map_err(Clone::clone)
}

fn load_pair(case: &SuiteFile, fixture: &SuiteFile) -> Result<(Case, Fixture), LoadError> {
    let c = parse_case(&case.path, text(case)?)?;
    let f = parse_fixture(&fixture.path, text(fixture)?)?;
    Ok((c, f))
}

/// The hash of a suite's files, as `fnv1a64:<hex>`.
fn hash(cases: &[SuiteFile], fixtures: &[SuiteFile]) -> String {
    let mut h = fnv::FnvHasher::default();
    let all = [("cases", cases), ("fixtures", fixtures)];
    for (dir, files) in all {
        for f in files {
            h.write(format!("{dir}/{}/{}.json\0", f.ty, f.name).as_bytes());
            h.write(f.text.as_deref().unwrap_or("").as_bytes());
            h.write(b"\0");
        }
    }
    format!("fnv1a64:{:016x}", h.finish())
}

/// Pair cases with fixtures. Nothing here is fatal: each unusable file is a problem.
pub fn pair(cases: &[SuiteFile], fixtures: &[SuiteFile], source: String) -> Suite {
    let mut suite = Suite {
        id: SuiteId {
            source,
            hash: hash(cases, fixtures),
        },
        ..Suite::default()
    };
    let by_key: BTreeMap<(&str, &str), &SuiteFile> = fixtures
        .iter()
        .map(|f| ((f.ty.as_str(), f.name.as_str()), f))
        .collect();
    let case_keys: BTreeSet<(&str, &str)> = cases
        .iter()
        .map(|c| (c.ty.as_str(), c.name.as_str()))
        .collect();
    for c in cases {
        let problem = |error| Problem {
            ty: c.ty.clone(),
            name: c.name.clone(),
            error,
        };
        let Some(ty) = NsType::from_name(&c.ty) else {
            let error = LoadError::UnknownType {
                path: c.path.clone(),
                ty: c.ty.clone(),
            };
            suite.problems.push(problem(error));
            continue;
        };
        let Some(f) = by_key.get(&(c.ty.as_str(), c.name.as_str())) else {
            let expected = fixture_path_for(fixtures, c);
            let error = LoadError::NoFixture {
                case: c.path.clone(),
                expected,
            };
            suite.problems.push(problem(error));
            continue;
        };
        match load_pair(c, f) {
            Ok((case, fixture)) => suite.entries.push(Entry {
                ty,
                name: c.name.clone(),
                case: Arc::new(case),
                fixture: Arc::new(fixture),
                known_issues: Arc::new([]),
            }),
            Err(error) => suite.problems.push(problem(error)),
        }
    }
    for f in fixtures {
        if !case_keys.contains(&(f.ty.as_str(), f.name.as_str())) {
            suite.problems.push(Problem {
                ty: f.ty.clone(),
                name: f.name.clone(),
                error: LoadError::NoCase {
                    fixture: f.path.clone(),
                },
            });
        }
    }
    suite
}

/// Where the fixture of `case` would be: beside the other fixtures.
fn fixture_path_for(fixtures: &[SuiteFile], case: &SuiteFile) -> PathBuf {
    let root = fixtures
        .first()
        .and_then(|f| f.path.parent()?.parent())
        .map_or_else(|| PathBuf::from("fixtures"), Path::to_path_buf);
    root.join(&case.ty).join(format!("{}.json", case.name))
}

/// Read the suite from two directories. Only an unreadable directory is fatal.
pub fn load(cases: &Path, fixtures: &Path) -> Result<Suite, LoadError> {
    let case_files = json_files(cases, "cases")?;
    let fixture_files = json_files(fixtures, "fixtures")?;
    let source = format!("{} + {}", cases.display(), fixtures.display());
    let mut suite = pair(&case_files, &fixture_files, source);
    attach_known_issues(&mut suite, &known_issues_path(cases), read_known(cases));
    Ok(suite)
}

/// The built-in cases and fixtures, each sorted by type and name.
fn built_in_files() -> (Vec<SuiteFile>, Vec<SuiteFile>) {
    let (mut cases, mut fixtures) = (Vec::new(), Vec::new());
    for (rel, text) in crate::embedded::files() {
        let mut parts = rel.splitn(3, '/');
        let (Some(dir), Some(ty), Some(file)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let file = SuiteFile {
            ty: ty.to_string(),
            name: file.trim_end_matches(".json").to_string(),
            path: PathBuf::from(rel),
            text: Ok(text.to_string()),
        };
        match dir {
            "cases" => cases.push(file),
            _ => fixtures.push(file),
        }
    }
    let key = |f: &SuiteFile| (f.ty.clone(), f.name.clone());
    cases.sort_by_key(key);
    fixtures.sort_by_key(key);
    (cases, fixtures)
}

/// The suite to run: the directories given, the built-in suite for those
/// not given.
pub fn choose(cases: Option<&Path>, fixtures: Option<&Path>) -> Result<Suite, LoadError> {
    let (builtin_cases, builtin_fixtures) = built_in_files();
    let (case_files, case_source) = match cases {
        Some(dir) => (json_files(dir, "cases")?, dir.display().to_string()),
        None => (builtin_cases, "built-in cases".to_string()),
    };
    let (fixture_files, fixture_source) = match fixtures {
        Some(dir) => (json_files(dir, "fixtures")?, dir.display().to_string()),
        None => (builtin_fixtures, "built-in fixtures".to_string()),
    };
    let source = match (cases, fixtures) {
        (None, None) => "built-in".to_string(),
        _ => format!("{case_source} + {fixture_source}"),
    };
    let mut suite = pair(&case_files, &fixture_files, source);
    match cases {
        Some(dir) => attach_known_issues(&mut suite, &known_issues_path(dir), read_known(dir)),
        None => {
            let path = Path::new(KNOWN_ISSUES);
            let issues = crate::embedded::known_issues()
                .map_or(Ok(Vec::new()), |text| known_issue::parse(path, text));
            attach_known_issues(&mut suite, path, issues);
        }
    }
    Ok(suite)
}

/// The name of the known-issues file, beside the cases directory.
const KNOWN_ISSUES: &str = "known-issues.json";

/// The known-issues file beside the cases directory.
pub fn known_issues_path(cases: &Path) -> PathBuf {
    cases.parent().unwrap_or(Path::new(".")).join(KNOWN_ISSUES)
}

fn read_known(cases: &Path) -> Result<Vec<KnownIssue>, FormatError> {
    known_issue::read(&known_issues_path(cases))
}

/// Give each entry the known issues that name it; an unreadable file, or
/// an issue that names no case, is a problem.
fn attach_known_issues(
    suite: &mut Suite,
    path: &Path,
    issues: Result<Vec<KnownIssue>, FormatError>,
) {
    let problem = |name: &str, error: LoadError| Problem {
        ty: "known-issues".into(),
        name: name.into(),
        error,
    };
    let issues = match issues {
        Ok(issues) => issues,
        Err(e) => return suite.problems.push(problem("file", e.into())),
    };
    for issue in &issues {
        for t in &issue.trials {
            let named = suite.entries.iter().any(|e| {
                let (ty, name) = (e.ty.name(), e.name.as_str());
                issue.names_case(ty, name) && t.starts_with(&format!("{ty}::{name}"))
            });
            if !named {
                let error = LoadError::UnknownTrial {
                    path: path.to_path_buf(),
                    issue: issue.id.clone(),
                    trial: t.clone(),
                };
                suite.problems.push(problem(&issue.id, error));
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
