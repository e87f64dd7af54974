//! The `nsconform` command line: parsing and dispatch. Each command lives
//! in its own file; the binary only calls [`main`].

mod compare;
mod list;
mod probe;
mod record;
mod run;

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
    Run(run::RunArgs),
    /// List the trials the suite would run.
    List(Selection),
    /// Print the view of this process as JSON.
    Probe,
    /// Compare two report.json files (two kernels, two runtimes, root and rootless).
    Compare(compare::CompareArgs),
    /// Print the views a case observes as a fixture draft, to review and trim.
    Record(record::RecordArgs),
}

/// Which trials: shared by `run`, `list` and `record`.
#[derive(Args, Clone, Debug)]
pub struct Selection {
    /// Only these namespace types (repeatable).
    #[arg(long = "type", value_name = "T")]
    pub types: Vec<String>,
    /// Only these doors (repeatable).
    #[arg(long = "door", value_name = "D")]
    pub doors: Vec<String>,
    /// Only trials whose id contains PATTERN.
    #[arg(long, value_name = "PATTERN")]
    pub case: Option<String>,
    /// The cases directory [default: ./cases, or the source tree's].
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// The fixtures directory [default: ./fixtures, or the source tree's].
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

impl Selection {
    /// Load the suite and the filter, checking type and door names.
    pub fn load(&self) -> anyhow::Result<(crate::suite::Suite, crate::run::Filter)> {
        for t in &self.types {
            if crate::kind::NsType::from_name(t).is_none() {
                anyhow::bail!("unknown namespace type {t:?}");
            }
        }
        for d in &self.doors {
            if crate::plan::Door::from_name(door_name(d)).is_none() {
                anyhow::bail!("unknown door {d:?}");
            }
        }
        let cases = crate::suite::data_dir(self.cases.as_deref(), "cases");
        let fixtures = crate::suite::data_dir(self.fixtures.as_deref(), "fixtures");
        let suite = crate::suite::load(&cases, &fixtures).map_err(anyhow::Error::msg)?;
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
pub fn runtime_overrides(
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

/// The probe binary: beside this one.
pub fn probe_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.with_file_name("nsconform-probe")
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
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("nsconform: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
