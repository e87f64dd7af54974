//! `nsconform merge A.json B.json ...`: join the reports of shards, or of
//! several targets, into one report and one matrix.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_FAILED, EXIT_OK};
use crate::report::Format;

#[derive(Args)]
pub struct MergeArgs {
    /// The report.json files to join.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Where to write the joined report and the matrix.
    #[arg(long, value_name = "DIR")]
    report_dir: PathBuf,
    /// Which reports to write: any of json,junit,ktap,md,html.
    #[arg(long, value_name = "LIST", default_value = "json,junit,ktap,md,html")]
    format: String,
}

pub fn main(args: &MergeArgs) -> anyhow::Result<u8> {
    let formats = Format::parse_list(&args.format)?;
    let reports = args
        .reports
        .iter()
        .map(|p| crate::report::json::read_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = crate::merge::merge(reports)?;
    crate::report::write_all(&merged, &args.report_dir, &formats)?;
    super::targets::write_matrix(&merged, &args.report_dir)?;
    let s = merged.summary;
    eprintln!(
        "{} trials merged: {} passed, {} failed, {} skipped, {} errored; reports in {}",
        s.total(),
        s.pass,
        s.fail,
        s.skip,
        s.error,
        args.report_dir.display()
    );
    let good = s.ok() && merged.kernel_log.is_empty();
    Ok(if good { EXIT_OK } else { EXIT_FAILED })
}
