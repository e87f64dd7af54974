//! Shards: `--shard K/N` keeps the trials whose id hashes to bucket K of N,
//! so that N machines together run every trial exactly once, and
//! `nsconform merge` joins their reports.

use std::str::FromStr;

/// Bucket `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Why a shard could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseShardError {
    /// Not of the form `K/N` with 1 <= K <= N.
    #[error("invalid shard {0:?}: expected K/N with 1 <= K <= N, such as 1/2")]
    Invalid(String),
}

impl FromStr for Shard {
    type Err = ParseShardError;

    fn from_str(s: &str) -> Result<Shard, ParseShardError> {
        let bad = || ParseShardError::Invalid(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// FNV-1a: a hash that is the same on every machine and every build.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Shard {
    /// Whether the trial `id` belongs to this shard.
    pub fn keeps(&self, id: &str) -> bool {
        fnv1a(id) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("1/2", Some((1, 2)))]
    #[case("3/3", Some((3, 3)))]
    #[case("0/2", None)]
    #[case("3/2", None)]
    #[case("1", None)]
    #[case("a/b", None)]
    fn parsing(#[case] text: &str, #[case] want: Option<(u32, u32)>) {
        let got = text.parse::<Shard>().ok().map(|s| (s.index, s.count));
        assert_eq!(got, want);
    }

    #[test]
    fn every_id_is_in_exactly_one_shard() {
        for n in 1..5 {
            for i in 0..200 {
                let id = format!("uts::case-{i}::clone");
                let owners = (1..=n)
                    .filter(|k| {
                        Shard {
                            index: *k,
                            count: n,
                        }
                        .keeps(&id)
                    })
                    .count();
                assert_eq!(owners, 1, "{id} in {n} shards");
            }
        }
    }
}
