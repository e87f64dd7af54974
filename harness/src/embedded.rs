//! The suite built into the binary (by `build.rs`), so that the binary runs
//! without its source tree: installed, copied into a container or a guest.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/suite.rs"));
}

/// Every built-in file as (path relative to the source tree, text):
/// `cases/<type>/<name>.json` and `fixtures/<type>/<name>.json`.
pub fn files() -> &'static [(&'static str, &'static str)] {
    generated::FILES
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_suite_is_built_in() {
        let files = super::files();
        let cases = files
            .iter()
            .filter(|(p, _)| p.starts_with("cases/"))
            .count();
        let fixtures = files
            .iter()
            .filter(|(p, _)| p.starts_with("fixtures/"))
            .count();
        assert!(cases > 0 && cases == fixtures);
        assert!(files.iter().any(|(p, _)| p.starts_with("cases/uts/")));
    }
}
