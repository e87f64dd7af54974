//! The `nsconform` command line: parsing and dispatch. Each command lives
//! in its own file; the binary only calls [`main`].

mod compare;
mod list;
mod merge;
mod out;
mod probe;
mod record;
mod run;
mod signal;
mod targets;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Exit status: nothing failed and nothing broke.
pub const EXIT_OK: u8 = 0;
/// Exit status: a trial failed or errored (or, for `compare`, verdicts differ).
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad usage or unreadable input.
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "nsconform",
    version,
    about = "A conformance suite for Linux namespaces"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the suite against this machine's kernel and write reports.
    Run(Box<run::RunArgs>),
    /// List the trials the suite would run.
    List(Selection),
    /// Print the view of this process as JSON.
    Probe,
    /// Compare two report.json files (two kernels, two runtimes, root and rootless).
    Compare(compare::CompareArgs),
    /// Print the views a case observes as a fixture draft, to review and trim.
    Record(record::RecordArgs),
    /// Join the report.json files of shards or targets into one report and matrix.
    Merge(merge::MergeArgs),
}

/// Which trials: shared by `run`, `list` and `record`.
#[derive(Args, Clone, Debug)]
pub struct Selection {
    /// Only these namespace types (a comma list, or repeated).
    #[arg(long = "type", value_name = "T", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Only these doors (a comma list, or repeated).
    #[arg(long = "door", value_name = "D", value_delimiter = ',')]
    pub doors: Vec<String>,
    /// Only trials whose id contains PATTERN (`*` matches anything: `uts::*::clone`).
    #[arg(long, value_name = "PATTERN")]
    pub case: Option<String>,
    /// Read the cases from DIR instead of the suite built into this binary.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// Read the fixtures from DIR instead of the suite built into this binary.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

/// Refuse any of `given` that is not one of `known`, listing the known ones.
fn check_names(what: &str, given: &[String], known: &[&str]) -> anyhow::Result<()> {
    match given.iter().find(|g| !known.contains(&g.as_str())) {
        Some(bad) => anyhow::bail!("unknown {what} {bad:?} (known: {})", known.join(", ")),
        None => Ok(()),
    }
}

impl Selection {
    /// Load the suite and the filter, checking type and door names.
    pub fn load(&self) -> anyhow::Result<(crate::suite::Suite, crate::run::Filter)> {
        let types: Vec<&str> = crate::kind::NsType::all().map(|t| t.name()).collect();
        check_names("namespace type", &self.types, &types)?;
        let doors: Vec<&str> = (crate::plan::Door::ALL.iter())
            .chain(&crate::plan::runtime::RUNTIME_DOORS)
            .map(|d| d.name())
            .collect();
        let given: Vec<String> = self.doors.iter().map(|d| door_name(d).into()).collect();
        check_names("door", &given, &doors)?;
        let suite = crate::suite::choose(self.cases.as_deref(), self.fixtures.as_deref())?;
        let filter = crate::run::Filter {
            types: self.types.clone(),
            doors: self
                .doors
                .iter()
                .map(|d| door_name(d).to_string())
                .collect(),
            case: self.case.clone(),
        };
        Ok((suite, filter))
    }
}

/// A door's name as given: `oci:PATH` names the door `oci`.
fn door_name(given: &str) -> &str {
    if given.starts_with("oci:") {
        "oci"
    } else {
        given
    }
}

/// The runtime programs the command line names: `--door oci:PATH`, and
/// each `--runtime NAME=PATH`.
fn runtime_overrides(
    sel: &Selection,
    runtime: &[String],
) -> anyhow::Result<crate::runtimes::Overrides> {
    let mut out = crate::runtimes::Overrides::new();
    for d in &sel.doors {
        if let Some(path) = d.strip_prefix("oci:") {
            out.insert(crate::plan::Door::Oci, PathBuf::from(path));
        }
    }
    for r in runtime {
        let Some((name, path)) = r.split_once('=') else {
            anyhow::bail!("--runtime {r:?}: expected NAME=PATH");
        };
        match crate::plan::Door::from_name(name).filter(|d| d.is_runtime()) {
            Some(door) => out.insert(door, PathBuf::from(path)),
            None => anyhow::bail!("--runtime {r:?}: {name:?} is not a runtime door"),
        };
    }
    Ok(out)
}

/// The host's environment for a run of `filter` chosen by `sel`: the
/// runtime doors (their programs as `sel` and `--runtime` name them) asked
/// only when the filter keeps one.
pub fn host_environment(
    sel: &Selection,
    filter: &crate::run::Filter,
    runtime: &[String],
) -> anyhow::Result<crate::verdict::Environment> {
    let overrides = runtime_overrides(sel, runtime)?;
    let asked = !filter.runtime_doors().is_empty();
    Ok(crate::env::probe_with("host", asked.then_some(&overrides)))
}

/// The error for a selection that keeps no trial.
pub fn nothing_selected(sel: &Selection) -> anyhow::Error {
    anyhow::anyhow!(
        "no trial matches the selection (type {:?}, door {:?}, case {:?}); `nsconform list` shows them all",
        sel.types,
        sel.doors,
        sel.case.as_deref().unwrap_or("")
    )
}

/// Whether `e` is a write to a closed pipe (`nsconform list | head`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The probe binary: beside this one.
pub fn probe_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.with_file_name("nsconform-probe")
}

/// An error and its causes, each said once: a cause whose text the message
/// already holds is not repeated.
fn once_each(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let said = cause.to_string();
        if !text.contains(&said) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&said);
        }
    }
    text
}

/// Parse the command line and run the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::main(&args),
        Command::List(sel) => list::main(&sel),
        Command::Probe => probe::main(),
        Command::Compare(args) => compare::main(&args),
        Command::Record(args) => record::main(&args),
        Command::Merge(args) => merge::main(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("nsconform: {}", once_each(&e));
            ExitCode::from(EXIT_USAGE)
        }
    }
}
