//! `--partition hash:K/N`, `count:K/N` and `time:K/N`: split the test list over N shards so that
//! every test runs in exactly one shard.

use std::fmt;
use std::str::FromStr;

/// How tests are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// By a stable hash of the test id: shards stay stable when tests are added.
    Hash,
    /// Round-robin over the sorted list: shards are balanced in count.
    Count,
    /// By the durations recorded in the baseline notes: shards are balanced in time (longest
    /// tests first, each to the least loaded shard).
    Time,
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
            Some(("time", r)) => (Strategy::Time, r),
            Some((other, _)) => {
                return Err(format!(
                    "unknown partition strategy `{other}`; use hash:K/N, count:K/N or time:K/N"
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
            Strategy::Time => "time",
        };
        write!(f, "{s}:{}/{}", self.shard, self.total)
    }
}

impl Partition {
    /// Keeps the items of this shard. `ids` must be sorted identically on every shard (they are:
    /// binaries and tests are sorted by id before partitioning).
    /// `time` without durations splits like `count`.
    pub fn select<T>(&self, items: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, item)| match self.strategy {
                Strategy::Hash => fnv1a(id(item).as_bytes()) % self.total == self.shard - 1,
                Strategy::Count | Strategy::Time => (*i as u64) % self.total == self.shard - 1,
            })
            .map(|(_, item)| item)
            .collect()
    }

    /// Like [`Partition::select`], with each item's expected seconds for `time`: the longest
    /// first, each to the shard with the least time so far (ties: the lower shard). Every shard
    /// computes the same assignment from the same items and weights.
    pub fn select_weighted<T>(
        &self,
        items: Vec<T>,
        id: impl Fn(&T) -> &str,
        weight: impl Fn(&str) -> f64,
    ) -> Vec<T> {
        if self.strategy != Strategy::Time {
            return self.select(items, id);
        }
        let weights: Vec<f64> = items
            .iter()
            .map(|item| weight(id(item)))
            .map(|w| if w.is_finite() && w > 0.0 { w } else { 0.0 })
            .collect();
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| {
            weights[b]
                .total_cmp(&weights[a])
                .then_with(|| id(&items[a]).cmp(id(&items[b])))
        });
        let mut load = vec![0.0f64; self.total as usize];
        let mut count = vec![0usize; self.total as usize];
        let mut shard_of = vec![0usize; items.len()];
        for i in order {
            // Least time, then fewest tests (so zero-weight tests still spread), then lowest.
            let target = (0..load.len())
                .min_by(|&a, &b| {
                    load[a]
                        .total_cmp(&load[b])
                        .then_with(|| count[a].cmp(&count[b]))
                })
                .unwrap_or(0);
            load[target] += weights[i];
            count[target] += 1;
            shard_of[i] = target;
        }
        let mine = (self.shard - 1) as usize;
        items
            .into_iter()
            .zip(shard_of)
            .filter(|(_, s)| *s == mine)
            .map(|(item, _)| item)
            .collect()
    }
}

/// FNV-1a: stable across platforms and releases, unlike `DefaultHasher`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
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
    use proptest::prelude::{prop, prop_assert, prop_assert_eq, proptest};

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

    #[test]
    fn time_shards_balance_the_recorded_durations() {
        // One 10 s test and twenty 1 s tests over 3 shards: count would put the slow test with
        // six others (16 s); by time every shard gets 10 s.
        let mut items: Vec<String> = (0..20).map(|i| format!("fast_{i:02}")).collect();
        items.push("slow".to_string());
        items.sort();
        let weight = |id: &str| if id == "slow" { 10.0 } else { 1.0 };
        let shards: Vec<Vec<String>> = (1..=3)
            .map(|k| {
                let p: Partition = format!("time:{k}/3").parse().unwrap();
                p.select_weighted(items.clone(), |s| s.as_str(), weight)
            })
            .collect();
        let loads: Vec<f64> = shards
            .iter()
            .map(|s| s.iter().map(|id| weight(id)).sum())
            .collect();
        assert_eq!(loads, [10.0, 10.0, 10.0], "{shards:?}");
        assert_eq!(shards[0], ["slow"]);
        let count_loads: Vec<f64> = (1..=3)
            .map(|k| {
                let p: Partition = format!("count:{k}/3").parse().unwrap();
                let shard = p.select(items.clone(), |s| s.as_str());
                shard.iter().map(|id| weight(id)).sum()
            })
            .collect();
        assert!(
            count_loads.iter().any(|l| *l > 10.0),
            "count shards: {count_loads:?}"
        );
    }

    proptest! {
        #[test]
        fn time_shards_differ_by_at_most_the_longest_test(n in 1u64..6, weights in prop::collection::vec(0u32..1000, 0..60)) {
            let items: Vec<String> = (0..weights.len()).map(|i| format!("t{i:03}")).collect();
            let w = |id: &str| id[1..].parse::<usize>().map_or(0.0, |i| f64::from(weights[i]));
            let loads: Vec<f64> = (1..=n)
                .map(|k| {
                    let p = Partition { strategy: Strategy::Time, shard: k, total: n };
                    p.select_weighted(items.clone(), |s| s.as_str(), w).iter().map(|id| w(id)).sum()
                })
                .collect();
            let max = loads.iter().copied().fold(0.0, f64::max);
            let min = loads.iter().copied().fold(f64::INFINITY, f64::min);
            let longest = weights.iter().copied().max().map_or(0.0, f64::from);
            prop_assert!(max - min <= longest, "{:?} (longest {})", loads, longest);
        }

        #[test]
        fn every_item_lands_in_exactly_one_shard(n in 1u64..8, count in 0usize..200, which in 0u8..3) {
            let items: Vec<String> = (0..count).map(|i| format!("test_{i}")).collect();
            let strategy = [Strategy::Hash, Strategy::Count, Strategy::Time][usize::from(which)];
            let weight = |id: &str| (id.len() % 7) as f64 * 0.3;
            let mut seen: Vec<String> = Vec::new();
            for k in 1..=n {
                let p = Partition { strategy, shard: k, total: n };
                seen.extend(p.select_weighted(items.clone(), |s| s.as_str(), weight));
            }
            seen.sort();
            let mut expected = items.clone();
            expected.sort();
            prop_assert_eq!(seen, expected);
        }
    }
}
