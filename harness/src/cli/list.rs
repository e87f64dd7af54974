//! `nsconform list`: the trials, one id a line, and the files that failed to load.

use super::{Selection, EXIT_OK};

pub fn main(sel: &Selection) -> anyhow::Result<u8> {
    let (suite, filter) = sel.load()?;
    for trial in crate::run::trials(&suite, &filter) {
        println!("{}", trial.id());
    }
    for p in &suite.problems {
        eprintln!("nsconform: {}", p.message);
    }
    Ok(EXIT_OK)
}
