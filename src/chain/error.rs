//! Why a header is rejected, named as Bitcoin Core names it.

use core::fmt;

use crate::pow::{CompactTarget, PowError};
use crate::wire::BlockHash;

/// A header rule that failed.
///
/// [`HeaderError::reason`] and `Display` give Bitcoin Core's reject reason
/// (the string in `BlockValidationState`, src/validation.cpp);
/// [`HeaderError::detail`] says what was expected and what was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderError {
    /// `high-hash`: the proof of work fails (`CheckBlockHeader`).
    HighHash(PowError),
    /// `prev-blk-not-found`: the previous block is not in the tree.
    PrevBlkNotFound {
        /// The unknown previous-block hash.
        prev: BlockHash,
    },
    /// `bad-diffbits`: `nBits` is not what `GetNextWorkRequired` demands.
    BadDiffBits {
        /// The required `nBits`.
        expected: CompactTarget,
        /// The header's `nBits`.
        found: CompactTarget,
    },
    /// `time-too-old`: time not after the median of the previous 11 blocks.
    TimeTooOld {
        /// The header's time.
        time: u32,
        /// The median time past it had to exceed.
        median_time_past: i64,
    },
    /// `time-timewarp-attack`: BIP94, the first block of a period more than
    /// 600 s earlier than the block before it.
    TimeTimewarpAttack {
        /// The header's time.
        time: u32,
        /// The previous block's time.
        prev_time: u32,
    },
    /// `time-too-new`: time more than 2 hours past the caller's clock.
    TimeTooNew {
        /// The header's time.
        time: u32,
        /// The latest time allowed (`now` + 7200).
        max_time: i64,
    },
    /// `bad-version(0x%08x)`: version below the BIP34/66/65 minimum at this height.
    BadVersion {
        /// The header's version.
        version: i32,
        /// The minimum version required at this height.
        min_version: i32,
    },
}

impl HeaderError {
    /// Bitcoin Core's reject reason, without the version number for
    /// `bad-version` (use `Display` for the full string, `bad-version(0x00000001)`).
    pub const fn reason(&self) -> &'static str {
        match self {
            HeaderError::HighHash(_) => "high-hash",
            HeaderError::PrevBlkNotFound { .. } => "prev-blk-not-found",
            HeaderError::BadDiffBits { .. } => "bad-diffbits",
            HeaderError::TimeTooOld { .. } => "time-too-old",
            HeaderError::TimeTimewarpAttack { .. } => "time-timewarp-attack",
            HeaderError::TimeTooNew { .. } => "time-too-new",
            HeaderError::BadVersion { .. } => "bad-version",
        }
    }

    /// The `BlockValidationResult` Core files this failure under
    /// (src/consensus/validation.h): `BLOCK_INVALID_HEADER` for proof of
    /// work, nBits, time-too-old, timewarp and version; `BLOCK_TIME_FUTURE`
    /// for time-too-new; `BLOCK_MISSING_PREV` for an unknown parent. This is
    /// the mapping a differential test against libbitcoinkernel compares.
    pub const fn core_result(&self) -> &'static str {
        match self {
            HeaderError::PrevBlkNotFound { .. } => "BLOCK_MISSING_PREV",
            HeaderError::TimeTooNew { .. } => "BLOCK_TIME_FUTURE",
            HeaderError::HighHash(_)
            | HeaderError::BadDiffBits { .. }
            | HeaderError::TimeTooOld { .. }
            | HeaderError::TimeTimewarpAttack { .. }
            | HeaderError::BadVersion { .. } => "BLOCK_INVALID_HEADER",
        }
    }

    /// What was expected and what was found, in words.
    pub fn detail(&self) -> String {
        match self {
            HeaderError::HighHash(e) => e.to_string(),
            HeaderError::PrevBlkNotFound { prev } => format!("previous block {prev} is unknown"),
            HeaderError::BadDiffBits { expected, found } => {
                format!("nbits {found:x}, expected {expected:x}")
            }
            HeaderError::TimeTooOld { time, median_time_past } => {
                format!("time {time} is not after the median time past {median_time_past}")
            }
            HeaderError::TimeTimewarpAttack { time, prev_time } => {
                format!("time {time} is more than 600 s before the previous block's {prev_time}")
            }
            HeaderError::TimeTooNew { time, max_time } => {
                format!("time {time} is after the latest allowed {max_time}")
            }
            HeaderError::BadVersion { version, min_version } => {
                format!("version {version} is below the minimum {min_version} at this height")
            }
        }
    }
}

impl fmt::Display for HeaderError {
    /// Exactly Bitcoin Core's reject reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Core: strprintf("bad-version(0x%08x)", block.nVersion).
            HeaderError::BadVersion { version, .. } => {
                write!(f, "bad-version(0x{:08x})", *version as u32)
            }
            other => f.write_str(other.reason()),
        }
    }
}

impl std::error::Error for HeaderError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_version_prints_like_core() {
        let e = HeaderError::BadVersion { version: 1, min_version: 2 };
        assert_eq!(e.to_string(), "bad-version(0x00000001)");
        let e = HeaderError::BadVersion { version: -1, min_version: 4 };
        assert_eq!(e.to_string(), "bad-version(0xffffffff)");
        assert_eq!(e.reason(), "bad-version");
        assert_eq!(e.core_result(), "BLOCK_INVALID_HEADER");
        let e = HeaderError::TimeTooNew { time: 9, max_time: 8 };
        assert_eq!(e.core_result(), "BLOCK_TIME_FUTURE");
    }
}
