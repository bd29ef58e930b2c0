//! Differential conformance of bitwire's header consensus against Bitcoin
//! Core's own consensus engine, libbitcoinkernel.
//!
//! This crate is not part of bitwire: it is a workspace of its own, so only
//! people who run the suite compile Bitcoin Core's C++.
//!
//! ```text
//!   kernel   CoreEngine: a libbitcoinkernel ChainstateManager, one header at a time
//!   bitwire  BitwireEngine: bitwire's HeaderTree, one header at a time, and
//!            its ChainWindow on the same headers (they must agree)
//!   Pair     both engines fed the same header with the same clock;
//!            a Disagreement when verdict, class, reason or best tip differ
//!   regtest  chains mined in the test at regtest difficulty
//!   fuzz     the body of the differential fuzz target
//! ```
//!
//! # Core's classes and bitwire's reasons
//!
//! Core reports a rejected header as a `BlockValidationResult` class and a
//! reject reason string. bitwire reports a [`HeaderError`], whose `Display` is
//! Core's reason string. [`class_of`] maps one to the other:
//!
//! | bitwire `HeaderError` | reason string | Core class |
//! |---|---|---|
//! | `HighHash` | `high-hash` | `BLOCK_INVALID_HEADER` |
//! | `BadDiffBits` | `bad-diffbits` | `BLOCK_INVALID_HEADER` |
//! | `TimeTooOld` | `time-too-old` | `BLOCK_INVALID_HEADER` |
//! | `TimeTimewarpAttack` | `time-timewarp-attack` | `BLOCK_INVALID_HEADER` |
//! | `BadVersion` | `bad-version(0x%08x)` | `BLOCK_INVALID_HEADER` |
//! | `TimeTooNew` | `time-too-new` | `BLOCK_TIME_FUTURE` |
//! | `PrevBlkNotFound` | `prev-blk-not-found` | `BLOCK_MISSING_PREV` |
//!
//! Core classes no header can earn through `ProcessNewBlockHeaders` with
//! `min_pow_checked = true`, so bitwire has no counterpart:
//! `BLOCK_CACHED_INVALID` (`duplicate-invalid`) and `BLOCK_INVALID_PREV`
//! (`bad-prevblk`) need a block index entry marked `BLOCK_FAILED_VALID`,
//! which only full-block validation sets; `BLOCK_HEADER_LOW_WORK`
//! (`too-little-chainwork`) needs `min_pow_checked = false`; `BLOCK_CONSENSUS`
//! and `BLOCK_MUTATED` are block-body results.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// Under `cfg(fuzzing)` bitwire replaces its proof-of-work comparison (see
// `bitwire::pow::check_proof_of_work`) and Core does not: the engines would
// differ by construction. The fuzz target is built with `--no-cfg-fuzzing`.
#[cfg(fuzzing)]
compile_error!(
    "build with `cargo fuzz build --no-cfg-fuzzing`: bitwire's PoW differs under cfg(fuzzing)"
);

pub mod fuzz;
pub mod kernel;
pub mod regtest;

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use bitwire::chain::{ChainWindow, HeaderError, HeaderTree, Params};
use bitwire::wire::{BlockHash, BlockHeader};
use bitwire::Network;

pub use kernel::{CoreEngine, KernelError};

/// Core's `BlockValidationResult` (src/consensus/validation.h), the kind of
/// failure both engines are compared on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Class {
    /// `BLOCK_RESULT_UNSET`.
    Unset,
    /// `BLOCK_CONSENSUS`.
    Consensus,
    /// `BLOCK_CACHED_INVALID`.
    CachedInvalid,
    /// `BLOCK_INVALID_HEADER`.
    InvalidHeader,
    /// `BLOCK_MUTATED`.
    Mutated,
    /// `BLOCK_MISSING_PREV`.
    MissingPrev,
    /// `BLOCK_INVALID_PREV`.
    InvalidPrev,
    /// `BLOCK_TIME_FUTURE`.
    TimeFuture,
    /// `BLOCK_HEADER_LOW_WORK`.
    HeaderLowWork,
    /// A bitwire error this crate has no mapping for (a new variant of the
    /// non-exhaustive [`HeaderError`]): always a disagreement.
    Unmapped,
}

/// The Core class of a bitwire rejection (the table in the crate docs).
pub fn class_of(error: &HeaderError) -> Class {
    match error {
        HeaderError::HighHash(_)
        | HeaderError::BadDiffBits { .. }
        | HeaderError::TimeTooOld { .. }
        | HeaderError::TimeTimewarpAttack { .. }
        | HeaderError::BadVersion { .. } => Class::InvalidHeader,
        HeaderError::TimeTooNew { .. } => Class::TimeFuture,
        HeaderError::PrevBlkNotFound { .. } => Class::MissingPrev,
        _ => Class::Unmapped,
    }
}

/// What an engine did with one header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Valid: added to the header tree, or already there.
    Accepted,
    /// Invalid.
    Rejected {
        /// Core's class of the failure.
        class: Class,
        /// Core's reject reason string, e.g. `bad-version(0x00000001)`.
        reason: String,
    },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accepted => f.write_str("accepted"),
            Verdict::Rejected { class, reason } => write!(f, "rejected {class:?} {reason}"),
        }
    }
}

/// A best header: height and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Height above genesis.
    pub height: u32,
    /// Block hash (internal byte order).
    pub hash: BlockHash,
}

impl fmt::Display for Tip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at height {}", self.hash, self.height)
    }
}

/// bitwire's header consensus, fed one header at a time like [`CoreEngine`]:
/// the [`HeaderTree`], and beside it the [`ChainWindow`] (what `bitwire
/// validate` checks a chain with), which must give the tree's verdict on
/// every new header whose parent is known; so Core is the oracle of both.
#[derive(Clone, Debug)]
pub struct BitwireEngine {
    tree: HeaderTree,
    /// A window ending at the last header accepted: the parent of the next
    /// one, mostly, so that it is cloned rather than rebuilt from the tree.
    window: ChainWindow,
}

impl BitwireEngine {
    /// A tree holding only the genesis header of `network`.
    pub fn new(network: Network) -> BitwireEngine {
        let params = Params::for_network(network);
        BitwireEngine { tree: HeaderTree::new(params), window: ChainWindow::new(params) }
    }

    /// Submits one header with the clock `now` (seconds since the epoch).
    ///
    /// # Panics
    ///
    /// When the window and the tree disagree on it.
    pub fn submit(&mut self, header: &BlockHeader, now: u64) -> Verdict {
        let by_window = self.window_verdict(header, now);
        let verdict = verdict_of(self.tree.accept(core::slice::from_ref(header), now).map(drop));
        if let Some((window, by_window)) = by_window {
            assert_eq!(
                by_window,
                verdict,
                "the ChainWindow and the HeaderTree disagree on {}",
                header.block_hash()
            );
            if verdict == Verdict::Accepted {
                self.window = window;
            }
        }
        verdict
    }

    /// The window's verdict on `header`, and the window after it; `None`
    /// when the tree does not check it (a known header) or no window can be
    /// built at its parent (an unknown parent).
    fn window_verdict(&self, header: &BlockHeader, now: u64) -> Option<(ChainWindow, Verdict)> {
        if self.tree.contains(&header.block_hash()) {
            return None;
        }
        let prev = header.prev_hash();
        let mut window = if self.window.tip_hash() == prev {
            self.window.clone()
        } else {
            ChainWindow::from_tree(&self.tree, &prev)?
        };
        let verdict = verdict_of(window.extend(core::slice::from_ref(header), now).map(drop));
        Some((window, verdict))
    }

    /// The best tip.
    pub fn best_tip(&self) -> Tip {
        let t = self.tree.tip();
        Tip { height: t.height, hash: t.hash }
    }

    /// The tree, for building on known headers.
    pub fn tree(&self) -> &HeaderTree {
        &self.tree
    }
}

/// A bitwire result as a [`Verdict`].
fn verdict_of(result: Result<(), bitwire::chain::HeaderRejection>) -> Verdict {
    match result {
        Ok(()) => Verdict::Accepted,
        Err(rej) => {
            Verdict::Rejected { class: class_of(&rej.error), reason: rej.error.to_string() }
        }
    }
}

/// Both engines disagreed on one header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// The header, as 80 bytes of hex.
    pub header_hex: String,
    /// Its block hash.
    pub hash: BlockHash,
    /// What Core did, with its best tip afterwards.
    pub core: (Verdict, Option<Tip>),
    /// What bitwire did, with its best tip afterwards.
    pub bitwire: (Verdict, Tip),
    /// The clock bitwire was given.
    pub now: u64,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core_tip = self.core.1.map_or("none".to_string(), |t| t.to_string());
        write!(
            f,
            "header {} ({}), now {}: core {} (best {}), bitwire {} (best {})",
            self.hash,
            self.header_hex,
            self.now,
            self.core.0,
            core_tip,
            self.bitwire.0,
            self.bitwire.1
        )
    }
}

impl std::error::Error for Disagreement {}

/// The clock, in whole seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Core's `MAX_FUTURE_BLOCK_TIME` (src/chain.h), for the clock alignment.
const MAX_FUTURE_BLOCK_TIME: i64 = 2 * 60 * 60;

/// Both engines on one network, fed the same headers with the same clock.
pub struct Pair {
    /// Bitcoin Core.
    pub core: CoreEngine,
    /// bitwire.
    pub bitwire: BitwireEngine,
    /// Headers submitted.
    pub submitted: u64,
}

impl Pair {
    /// Fresh engines for `network`, both at genesis (their tips are checked equal).
    pub fn new(network: Network) -> Result<Pair, KernelError> {
        let pair = Pair {
            core: CoreEngine::new(network)?,
            bitwire: BitwireEngine::new(network),
            submitted: 0,
        };
        let (c, b) = (pair.core.best_tip(), pair.bitwire.best_tip());
        if c != Some(b) {
            return Err(KernelError::Kernel(format!(
                "genesis tips differ: core {c:?}, bitwire {b}"
            )));
        }
        Ok(pair)
    }

    /// Submits `header` to both engines and compares verdict, class, reason
    /// and best tip. Core reads the system clock during the call; bitwire
    /// gets that second as `now`, read just before and just after the call.
    /// When the second changes during the call (rare), Core's clock is one
    /// of the two, and it matters only for a header whose time is exactly at
    /// the two-hour edge of the later one: then bitwire gets the one that
    /// agrees with Core's verdict, and every other header gets the earlier one.
    pub fn submit(&mut self, header: &BlockHeader) -> Result<Verdict, Box<Disagreement>> {
        let before = unix_now();
        let core = self.core.submit(header.bytes()).unwrap_or_else(|e| Verdict::Rejected {
            class: Class::Unset,
            reason: format!("kernel error: {e}"),
        });
        let after = unix_now();
        let at_edge = i64::from(header.time()) == after as i64 + MAX_FUTURE_BLOCK_TIME;
        let now =
            if after != before && at_edge && core == Verdict::Accepted { after } else { before };
        let bitwire = self.bitwire.submit(header, now);
        self.submitted += 1;
        let (ct, bt) = (self.core.best_tip(), self.bitwire.best_tip());
        if core != bitwire || ct != Some(bt) {
            return Err(Box::new(Disagreement {
                header_hex: hex(header.bytes()),
                hash: header.block_hash(),
                core: (core, ct),
                bitwire: (bitwire, bt),
                now,
            }));
        }
        Ok(core)
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a file of concatenated 80-byte headers.
pub fn read_headers(path: &std::path::Path) -> std::io::Result<Vec<BlockHeader>> {
    let raw = std::fs::read(path)?;
    if raw.len() % 80 != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{}: {} bytes is not a whole number of 80-byte headers",
                path.display(),
                raw.len()
            ),
        ));
    }
    Ok(raw
        .chunks_exact(80)
        .map(|c| BlockHeader::from_array(c.try_into().expect("80-byte chunk")))
        .collect())
}

/// The root of the bitwire repository (the parent of this crate).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
