//! `nsconform list`: the trials, one id a line, and the files that failed to
//! load (which make it exit non-zero).

use super::{Selection, EXIT_FAILED, EXIT_OK};

pub fn main(sel: &Selection) -> anyhow::Result<u8> {
    let (suite, filter) = sel.load()?;
    let environment = super::host_environment(sel, &filter, &[])?;
    let trials = crate::run::trials(&suite, &filter, &environment);
    if trials.is_empty() {
        return Err(super::nothing_selected(sel));
    }
    let ids: Vec<String> = trials.iter().map(crate::run::Trial::id).collect();
    super::out::print(&ids.join("\n"))?;
    for p in &suite.problems {
        eprintln!("nsconform: {}", p.error);
    }
    Ok(if suite.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
