//! Kernel versions and version ranges: `5.12`, `6.18.44-fc-v657`, `">=4.15 <5.6"`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A kernel version, major.minor.patch; a missing patch level is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KernelVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> KernelVersion {
        KernelVersion {
            major,
            minor,
            patch,
        }
    }

    /// Parses a strict version, `X.Y` or `X.Y.Z`, as a case or fixture writes it.
    pub fn parse(text: &str) -> Result<KernelVersion, String> {
        let bad = || format!("`{text}` is not a kernel version such as 5.12 or 4.15.3");
        let parts: Vec<&str> = text.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let mut nums = [0u32; 3];
        for (slot, part) in nums.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *slot = part.parse().map_err(|_| bad())?;
        }
        Ok(KernelVersion::new(nums[0], nums[1], nums[2]))
    }

    /// Parses a release as `uname -r` prints it (`6.18.44-fc-v657`,
    /// `6.9.0-rc1+`): the leading numbers count, the rest is ignored.
    pub fn from_release(release: &str) -> Option<KernelVersion> {
        let end = release
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(release.len());
        let mut nums = [0u32; 3];
        let mut parts = release[..end].split('.');
        for (i, slot) in nums.iter_mut().enumerate() {
            match parts.next() {
                Some(p) if !p.is_empty() => *slot = p.parse().ok()?,
                _ if i >= 2 => break,
                _ => return None,
            }
        }
        Some(KernelVersion::new(nums[0], nums[1], nums[2]))
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

impl TryFrom<String> for KernelVersion {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        KernelVersion::parse(&text)
    }
}

impl From<KernelVersion> for String {
    fn from(v: KernelVersion) -> String {
        v.to_string()
    }
}

impl Serialize for KernelVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KernelVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        KernelVersion::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A comparison operator of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// A range of kernel versions: comparisons separated by spaces, all of
/// which must hold (`">=4.15 <5.6"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    text: String,
    terms: Vec<(Op, KernelVersion)>,
}

impl VersionRange {
    pub fn parse(text: &str) -> Result<VersionRange, String> {
        let mut terms = Vec::new();
        for word in text.split_whitespace() {
            let (op, rest) = [
                (">=", Op::Ge),
                ("<=", Op::Le),
                (">", Op::Gt),
                ("<", Op::Lt),
                ("=", Op::Eq),
            ]
            .into_iter()
            .find_map(|(p, op)| word.strip_prefix(p).map(|r| (op, r)))
            .ok_or_else(|| {
                format!("`{word}` in kernel range `{text}` needs an operator (>=, >, <=, <, =)")
            })?;
            let v =
                KernelVersion::parse(rest).map_err(|e| format!("kernel range `{text}`: {e}"))?;
            terms.push((op, v));
        }
        if terms.is_empty() {
            return Err("an empty kernel range".into());
        }
        Ok(VersionRange {
            text: text.to_string(),
            terms,
        })
    }

    pub fn contains(&self, v: KernelVersion) -> bool {
        self.terms.iter().all(|&(op, bound)| match op {
            Op::Lt => v < bound,
            Op::Le => v <= bound,
            Op::Gt => v > bound,
            Op::Ge => v >= bound,
            Op::Eq => v == bound,
        })
    }

    /// The range as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn v(a: u32, b: u32, c: u32) -> KernelVersion {
        KernelVersion::new(a, b, c)
    }

    #[rstest]
    #[case("5.12", v(5, 12, 0))]
    #[case("4.15.3", v(4, 15, 3))]
    #[case("0.0", v(0, 0, 0))]
    fn parses_strict(#[case] text: &str, #[case] want: KernelVersion) {
        assert_eq!(KernelVersion::parse(text), Ok(want));
    }

    #[rstest]
    #[case("5")]
    #[case("5.")]
    #[case("5.12.1.2")]
    #[case("5.x")]
    #[case("+5.12")]
    #[case("99999999999.1")]
    #[case("")]
    fn refuses_bad_strict(#[case] text: &str) {
        assert!(KernelVersion::parse(text).is_err());
    }

    #[rstest]
    #[case("6.18.44-fc-v657", Some(v(6, 18, 44)))]
    #[case("6.9.0-rc1+", Some(v(6, 9, 0)))]
    #[case("5.12-rc3", Some(v(5, 12, 0)))]
    #[case("4.15", Some(v(4, 15, 0)))]
    #[case("6", None)]
    #[case("linux", None)]
    #[case("", None)]
    fn parses_release(#[case] text: &str, #[case] want: Option<KernelVersion>) {
        assert_eq!(KernelVersion::from_release(text), want);
    }

    #[rstest]
    #[case("6.18.44-fc-v657", ">=5.12", true)]
    #[case("5.11.22", ">=5.12", false)]
    #[case("5.11.22", "<5.12", true)]
    #[case("5.12.0", "<5.12", false)]
    #[case("5.0", ">=4.15 <5.6", true)]
    #[case("5.6", ">=4.15 <5.6", false)]
    #[case("4.14.300", ">=4.15 <5.6", false)]
    #[case("5.10.1", "=5.10.1", true)]
    #[case("5.10.1", ">5.10", true)]
    #[case("5.10.0", ">5.10", false)]
    #[case("5.10.0", "<=5.10", true)]
    fn ranges(#[case] release: &str, #[case] range: &str, #[case] want: bool) {
        let k = KernelVersion::from_release(release).unwrap();
        assert_eq!(VersionRange::parse(range).unwrap().contains(k), want);
    }

    #[rstest]
    #[case("")]
    #[case("5.12")]
    #[case(">=5")]
    #[case("=>5.12")]
    #[case(">=5.12 <")]
    fn refuses_bad_range(#[case] text: &str) {
        assert!(VersionRange::parse(text).is_err());
    }

    #[test]
    fn orders_versions() {
        assert!(v(6, 18, 44) > v(5, 12, 0));
        assert!(v(5, 2, 0) < v(5, 10, 0));
        assert_eq!(v(6, 1, 0).to_string(), "6.1");
        assert_eq!(v(6, 1, 3).to_string(), "6.1.3");
    }
}
