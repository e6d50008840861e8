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

/// The environment variables a scheduler sets to a task's index, in the order they are read:
/// Slurm job arrays (`SLURM_ARRAY_TASK_ID`) and Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`).
pub const SCHEDULER_INDEX_VARS: [&str; 2] = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

/// The environment variable that gives the shard count of [`AutoShard`] when the caller does not.
pub const SHARDS_VAR: &str = "STOG_SHARDS";

/// A shard chosen from the scheduler's environment (`stog sweep --shard auto`): the index from
/// [`SCHEDULER_INDEX_VARS`], the count given by the caller or read from [`SHARDS_VAR`]. The count
/// is never taken from the size of the submission (`SLURM_ARRAY_TASK_COUNT`), which a task
/// resubmitted alone gets wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoShard {
    /// The shard.
    pub shard: Shard,
    /// The variable that gave the index.
    pub index_from: &'static str,
    /// The variable that gave the count ([`SHARDS_VAR`]); `None` when the caller gave it.
    pub count_from: Option<&'static str>,
}

impl AutoShard {
    /// The shard of this process's scheduler task; `count` (else `STOG_SHARDS`) shards in all.
    pub fn from_env(count: Option<usize>) -> Result<AutoShard> {
        AutoShard::from_vars(count, |name| {
            std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
        })
    }

    /// As [`AutoShard::from_env`], with the variables read through `var` (a variable set to the
    /// empty string counts as unset). Errors name the variable at fault: no index, an index or
    /// count that is not a number, two index variables that disagree, no count, a count of 0,
    /// an index out of range.
    pub fn from_vars(
        count: Option<usize>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<AutoShard> {
        let bad = |reason: String| Error::SchedulerShard(reason);
        let read = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let number = |name: &str, value: &str| {
            value
                .trim()
                .parse::<usize>()
                .map_err(|_| bad(format!("{name}=`{value}` is not a whole number >= 0")))
        };
        let mut index: Option<(usize, &'static str)> = None;
        for name in SCHEDULER_INDEX_VARS {
            let Some(value) = read(name) else { continue };
            let i = number(name, &value)?;
            match index {
                Some((j, first)) if j != i => {
                    return Err(bad(format!(
                        "{first}={j} and {name}={i} disagree on the task index; unset one"
                    )));
                }
                Some(_) => {}
                None => index = Some((i, name)),
            }
        }
        let Some((index, index_from)) = index else {
            return Err(bad(format!(
                "no task index: neither {} is set (run it as a Slurm job array task or a \
                 Kubernetes Indexed Job pod, or give --shard I/N)",
                SCHEDULER_INDEX_VARS.join(" nor ")
            )));
        };
        let (count, count_from) = match count {
            Some(n) => (n, None),
            None => match read(SHARDS_VAR) {
                Some(value) => (number(SHARDS_VAR, &value)?, Some(SHARDS_VAR)),
                None => {
                    return Err(bad(format!(
                        "no shard count: set {SHARDS_VAR} or give --shards N (the size of the \
                         submission is not used: a task resubmitted alone would read 1)"
                    )));
                }
            },
        };
        let count_text = match count_from {
            None => format!("{count} shards"),
            Some(name) => format!("{count} shards ({name}={count})"),
        };
        if count == 0 {
            return Err(bad(format!("{count_text}: need at least 1")));
        }
        if index >= count {
            return Err(bad(format!(
                "{index_from}={index} is out of range for {count_text}: need {index_from} < {count}"
            )));
        }
        Ok(AutoShard {
            shard: Shard::new(index, count)?,
            index_from,
            count_from,
        })
    }
}

/// A short name of "which share" for messages: `shard I/N`, or `the whole grid`.
pub fn shard_name(shard: Option<Shard>) -> String {
    shard.map_or_else(|| "the whole grid".to_string(), |s| format!("shard {s}"))
}
