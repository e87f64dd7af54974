//! Errno helpers: from an `io::Error`, and by name.

use nix::errno::Errno;

/// The errno of an `io::Error` (EIO when it carries none).
pub fn io_errno(e: std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// The symbolic name of an errno, as the views carry it (`"EPERM"`).
pub fn name(e: Errno) -> String {
    format!("{e:?}")
}

/// `"ok"` or the errno name: how one attempt went, as a step reports it.
pub fn outcome<T>(r: Result<T, Errno>) -> serde_json::Value {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => name(e).into(),
    }
}

/// The errno called `name` (EIO when no errno is called so).
pub fn by_name(name: &str) -> Errno {
    (1..134)
        .map(Errno::from_raw)
        .find(|e| self::name(*e) == name)
        .unwrap_or(Errno::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(by_name("EACCES"), Errno::EACCES);
        assert_eq!(by_name("nonsense"), Errno::EIO);
        assert_eq!(name(Errno::EPERM), "EPERM");
    }
}
