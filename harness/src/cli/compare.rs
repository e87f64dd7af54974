//! `nsconform compare A B`: which verdicts and views differ between two runs.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_FAILED, EXIT_OK};

#[derive(Args)]
pub struct CompareArgs {
    /// The first report.json.
    a: PathBuf,
    /// The second report.json.
    b: PathBuf,
}

pub fn main(args: &CompareArgs) -> anyhow::Result<u8> {
    let a = crate::report::json::read_file(&args.a)?;
    let b = crate::report::json::read_file(&args.b)?;
    let cmp = crate::compare::compare(&a, &b);
    print!("{}", cmp.to_markdown());
    Ok(if cmp.verdicts_differ() {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}
