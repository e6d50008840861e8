//! A share of a sweep's grid: groups `index`, `index + count`, ... of [`super::SweepConfig::groups`],
//! so that `count` machines or processes run one sweep and a merge puts it back together.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Share `index` of `count` (0 <= index < count); written `I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shard {
    /// Which share.
    pub index: usize,
    /// Of how many.
    pub count: usize,
}

impl Shard {
    /// Share `index` of `count`; an error unless 0 <= index < count.
    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 || index >= count {
            return Err(Error::config(
                "shard",
                format!("`{index}/{count}`: need 0 <= I < N"),
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether group number `group` of the grid belongs to this share.
    pub fn holds(&self, group: usize) -> bool {
        group % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Shard> {
        let bad = |reason: &str| Error::config("shard", format!("`{s}`: {reason}"));
        let (i, n) = s.split_once('/').ok_or_else(|| bad("expected I/N"))?;
        let i = i.trim().parse().map_err(|_| bad("I is not a number"))?;
        let n = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        Shard::new(i, n).map_err(|_| bad("need 0 <= I < N"))
    }
}

impl TryFrom<String> for Shard {
    type Error = Error;
    fn try_from(s: String) -> Result<Shard> {
        s.parse()
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}
