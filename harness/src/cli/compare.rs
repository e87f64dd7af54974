//! `nsconform compare A B`: which verdicts and judged values differ between
//! two runs, and which trials only one of them holds.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_FAILED, EXIT_OK};
use crate::compare::ViewScope;

#[derive(Args)]
pub struct CompareArgs {
    /// The first report.json.
    a: PathBuf,
    /// The second report.json.
    b: PathBuf,
    /// Compare every view field, not only those the fixtures judge.
    #[arg(long)]
    views: bool,
    /// The cases whose fixtures say which fields are judged [default: the built-in suite].
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// The fixtures that say which fields are judged [default: the built-in suite].
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
}

pub fn main(args: &CompareArgs) -> anyhow::Result<u8> {
    let a = crate::report::json::read_file(&args.a)?;
    let b = crate::report::json::read_file(&args.b)?;
    let scope = if args.views {
        ViewScope::All
    } else {
        let suite = crate::suite::choose(args.cases.as_deref(), args.fixtures.as_deref())?;
        ViewScope::judged_by(&suite)
    };
    let cmp = crate::compare::compare(&a, &b, &scope);
    super::out::print(&cmp.to_markdown())?;
    Ok(if cmp.verdicts_differ() {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}
