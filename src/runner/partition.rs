//! `--partition hash:K/N` and `count:K/N`: split the test list over N shards so that every test
//! runs in exactly one shard.

use std::fmt;
use std::str::FromStr;

/// How tests are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// By a stable hash of the test id: shards stay stable when tests are added.
    Hash,
    /// Round-robin over the sorted list: shards are balanced in count.
    Count,
}

/// One shard of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Strategy.
    pub strategy: Strategy,
    /// This shard, 1-based.
    pub shard: u64,
    /// Number of shards.
    pub total: u64,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (strategy, rest) = match s.split_once(':') {
            Some(("hash", r)) => (Strategy::Hash, r),
            Some(("count", r)) => (Strategy::Count, r),
            Some((other, _)) => {
                return Err(format!(
                    "unknown partition strategy `{other}`; use hash:K/N or count:K/N"
                ));
            }
            None => (Strategy::Count, s),
        };
        let (k, n) = rest
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N; write e.g. hash:1/4"))?;
        let shard: u64 = k
            .trim()
            .parse()
            .map_err(|_| format!("shard `{k}` is not a positive number"))?;
        let total: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("shard count `{n}` is not a positive number"))?;
        if total == 0 {
            return Err("the shard count must be at least 1".to_string());
        }
        if shard == 0 || shard > total {
            return Err(format!(
                "shard {shard} does not exist in {total} shards; K counts from 1 to N"
            ));
        }
        Ok(Partition {
            strategy,
            shard,
            total,
        })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.strategy {
            Strategy::Hash => "hash",
            Strategy::Count => "count",
        };
        write!(f, "{s}:{}/{}", self.shard, self.total)
    }
}

impl Partition {
    /// Keeps the items of this shard. `ids` must be sorted identically on every shard (they are:
    /// binaries and tests are sorted by id before partitioning).
    pub fn select<T>(&self, items: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, item)| match self.strategy {
                Strategy::Hash => fnv1a(id(item).as_bytes()) % self.total == self.shard - 1,
                Strategy::Count => (*i as u64) % self.total == self.shard - 1,
            })
            .map(|(_, item)| item)
            .collect()
    }
}

/// FNV-1a: stable across platforms and releases, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::{Partition, Strategy};
    use proptest::prelude::{any, prop_assert_eq, proptest};

    #[test]
    fn parses_and_prints() {
        let p: Partition = "hash:2/3".parse().unwrap();
        assert_eq!(p.to_string(), "hash:2/3");
        assert_eq!(
            "1/2".parse::<Partition>().unwrap().strategy,
            Strategy::Count
        );
    }

    #[test]
    fn rejects_impossible_shards() {
        assert!(
            "3/2"
                .parse::<Partition>()
                .unwrap_err()
                .contains("does not exist in 2 shards")
        );
        assert!("0/2".parse::<Partition>().is_err());
        assert!("1/0".parse::<Partition>().is_err());
        assert!(
            "slice:1/2"
                .parse::<Partition>()
                .unwrap_err()
                .contains("unknown partition strategy")
        );
        assert!("hash:1".parse::<Partition>().is_err());
        assert!("hash:a/b".parse::<Partition>().is_err());
    }

    proptest! {
        #[test]
        fn every_item_lands_in_exactly_one_shard(n in 1u64..8, count in 0usize..200, hash in any::<bool>()) {
            let items: Vec<String> = (0..count).map(|i| format!("test_{i}")).collect();
            let strategy = if hash { Strategy::Hash } else { Strategy::Count };
            let mut seen: Vec<String> = Vec::new();
            for k in 1..=n {
                let p = Partition { strategy, shard: k, total: n };
                seen.extend(p.select(items.clone(), |s| s.as_str()));
            }
            seen.sort();
            let mut expected = items.clone();
            expected.sort();
            prop_assert_eq!(seen, expected);
        }
    }
}
