//! The suite built into the binary (by `build.rs`), so that the binary runs
//! without its source tree: installed, copied into a container or a guest.

use std::path::PathBuf;

use crate::suite::SuiteFile;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/suite.rs"));
}

/// The built-in cases and fixtures, each sorted by type and name.
pub fn files() -> (Vec<SuiteFile>, Vec<SuiteFile>) {
    let (mut cases, mut fixtures) = (Vec::new(), Vec::new());
    for (rel, text) in generated::FILES {
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_suite_is_built_in() {
        let (cases, fixtures) = super::files();
        assert!(!cases.is_empty() && cases.len() == fixtures.len());
        assert!(cases.iter().any(|c| c.ty == "uts"));
    }
}
