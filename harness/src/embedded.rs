//! The suite built into the binary (by `build.rs`), so that the binary runs
//! without its source tree: installed, copied into a container or a guest.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/suite.rs"));
}

/// The built-in files: the path below the source tree
/// (`cases/<type>/<name>.json`, `fixtures/...`) and the text.
pub fn files() -> &'static [(&'static str, &'static str)] {
    generated::FILES
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_suite_is_built_in() {
        let files = super::files();
        let cases = files.iter().filter(|(p, _)| p.starts_with("cases/uts/"));
        assert!(cases.count() > 0);
    }
}
