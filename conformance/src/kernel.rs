//! Bitcoin Core's header validation, through libbitcoinkernel.
//!
//! One [`CoreEngine`] is one `ChainstateManager` with its block tree in
//! memory and a throw-away data directory under [`std::env::temp_dir`].
//! Headers go in one at a time through `ProcessNewBlockHeaders`
//! (`process_block_header`, which passes `min_pow_checked = true`); the
//! verdict is the `BlockValidationResult` class of the returned state plus
//! the reject reason string, which the C API does not return but Core logs
//! under the `validation` debug category (src/validation.cpp,
//! `AcceptBlockHeader`): the log callback runs on the thread that submitted
//! the header, so a thread-local buffer pairs each line with its header.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use bitcoinkernel::log::logging::LoggingOptions;
use bitcoinkernel::{
    prelude::*, BlockHeader as KernelHeader, BlockValidationResult, ChainType, ChainstateManager,
    ChainstateManagerBuilder, Context, ContextBuilder, Log, LogCategory, LogLevel, Logger,
    ProcessBlockHeaderResult,
};
use bitwire::chain::Params;
use bitwire::wire::BlockHash;
use bitwire::Network;

use crate::{Class, Tip, Verdict};

thread_local! {
    /// The reject reason Core logged on this thread since the last submit.
    static REASON: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Picks the reject reason out of the `validation` debug lines that
/// `AcceptBlockHeader` writes on a failure (src/validation.cpp):
/// - `AcceptBlockHeader: Consensus::CheckBlockHeader: <hash>, <reason>, <debug>`
/// - `AcceptBlockHeader: Consensus::ContextualCheckBlockHeader: <hash>, <reason>, <debug>`
/// - `header <hash> has prev block not found: <prev>` (`prev-blk-not-found`)
/// - `header <hash> has prev block invalid: <prev>` (`bad-prevblk`)
/// - `AcceptBlockHeader: block <hash> is marked invalid` (`duplicate-invalid`)
/// - `...not adding new block header <hash>, missing anti-dos...` (`too-little-chainwork`)
pub fn reason_from_log_line(line: &str) -> Option<String> {
    for marker in ["Consensus::CheckBlockHeader: ", "Consensus::ContextualCheckBlockHeader: "] {
        if let Some(at) = line.find(marker) {
            // `<hash>, ` then `BlockValidationState::ToString()`: `reason, debug`.
            let rest = &line[at + marker.len()..];
            let rest = rest.split_once(", ")?.1;
            let reason = rest.split_once(", ").map_or(rest, |(r, _)| r);
            return Some(reason.trim_end().to_string());
        }
    }
    let fixed = [
        ("has prev block not found", "prev-blk-not-found"),
        ("has prev block invalid", "bad-prevblk"),
        ("is marked invalid", "duplicate-invalid"),
        ("missing anti-dos proof-of-work validation", "too-little-chainwork"),
    ];
    fixed.iter().find(|(m, _)| line.contains(m)).map(|(_, r)| (*r).to_string())
}

struct ReasonCapture;

impl Log for ReasonCapture {
    fn log(&self, message: &str) {
        if let Some(reason) = reason_from_log_line(message) {
            REASON.with(|r| *r.borrow_mut() = Some(reason));
        }
    }
}

/// Connects the kernel's global logger once per process, with the
/// `validation` category at debug level so reject reasons reach
/// [`ReasonCapture`].
fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let options = LoggingOptions {
            log_timestamps: false,
            log_time_micros: false,
            log_threadnames: false,
            log_sourcelocations: false,
            always_print_category_levels: false,
        };
        match Logger::new_with_options(ReasonCapture, options) {
            Ok(logger) => {
                logger.enable_category(LogCategory::Validation);
                logger.set_level_category(LogCategory::Validation, LogLevel::Debug);
                // The connection must outlive every engine; the kernel's logger
                // is process-wide, so it is never disconnected.
                std::mem::forget(logger);
            }
            Err(e) => eprintln!("kernel logging unavailable, reject reasons will be missing: {e}"),
        }
    });
}

/// The kernel's chain type for a bitwire network (`None` for a network this
/// crate does not know yet).
pub fn chain_type(network: Network) -> Option<ChainType> {
    Some(match network {
        Network::Main => ChainType::Mainnet,
        Network::Testnet3 => ChainType::Testnet,
        Network::Testnet4 => ChainType::Testnet4,
        Network::Signet => ChainType::Signet,
        Network::Regtest => ChainType::Regtest,
        _ => return None,
    })
}

/// The kernel's `BlockValidationResult` as a [`Class`].
pub fn class_of(result: BlockValidationResult) -> Class {
    match result {
        BlockValidationResult::Unset => Class::Unset,
        BlockValidationResult::Consensus => Class::Consensus,
        BlockValidationResult::CachedInvalid => Class::CachedInvalid,
        BlockValidationResult::InvalidHeader => Class::InvalidHeader,
        BlockValidationResult::Mutated => Class::Mutated,
        BlockValidationResult::MissingPrev => Class::MissingPrev,
        BlockValidationResult::InvalidPrev => Class::InvalidPrev,
        BlockValidationResult::TimeFuture => Class::TimeFuture,
        BlockValidationResult::HeaderLowWork => Class::HeaderLowWork,
    }
}

/// Why a [`CoreEngine`] could not be built or could not answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum KernelError {
    /// The data directory could not be made.
    DataDir(std::io::Error),
    /// The kernel refused an operation; the text is its own.
    Kernel(String),
    /// No kernel chain type matches this network.
    UnsupportedNetwork(Network),
}

impl std::fmt::Display for KernelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KernelError::DataDir(e) => write!(f, "kernel data directory: {e}"),
            KernelError::Kernel(e) => write!(f, "libbitcoinkernel: {e}"),
            KernelError::UnsupportedNetwork(n) => write!(f, "no kernel chain type for {n}"),
        }
    }
}

impl std::error::Error for KernelError {}

impl From<bitcoinkernel::KernelError> for KernelError {
    fn from(e: bitcoinkernel::KernelError) -> Self {
        KernelError::Kernel(e.to_string())
    }
}

/// Bitcoin Core's consensus engine for one network, fresh from genesis.
pub struct CoreEngine {
    /// `Some` until drop, which closes the manager, then its context, then
    /// removes the data directory.
    kernel: Option<Kernel>,
    dir: PathBuf,
    network: Network,
}

struct Kernel {
    // Field order is drop order: the manager before the context it uses.
    chainman: ChainstateManager,
    _context: Context,
}

impl CoreEngine {
    /// A new engine for `network` holding only the genesis block, with its
    /// data in a new directory under the system temp dir (removed on drop).
    pub fn new(network: Network) -> Result<CoreEngine, KernelError> {
        let chain = chain_type(network).ok_or(KernelError::UnsupportedNetwork(network))?;
        init_logging();
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "bitwire-conformance-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let blocks = dir.join("blocks");
        std::fs::create_dir_all(&blocks).map_err(KernelError::DataDir)?;
        let context = ContextBuilder::new().chain_type(chain).build()?;
        let chainman = ChainstateManagerBuilder::new(
            &context,
            &dir.to_string_lossy(),
            &blocks.to_string_lossy(),
        )?
        .block_tree_db_in_memory(true)
        .chainstate_db_in_memory(true)
        .worker_threads(0)
        .build()?;
        Ok(CoreEngine { kernel: Some(Kernel { chainman, _context: context }), dir, network })
    }

    fn chainman(&self) -> &ChainstateManager {
        &self.kernel.as_ref().expect("the kernel lives until drop").chainman
    }

    /// The network this engine validates for.
    pub fn network(&self) -> Network {
        self.network
    }

    /// Submits one 80-byte header to `ProcessNewBlockHeaders`.
    pub fn submit(&self, header: &[u8; 80]) -> Result<Verdict, KernelError> {
        let h = KernelHeader::new(header)?;
        REASON.with(|r| r.borrow_mut().take());
        match self.chainman().process_block_header(&h)? {
            ProcessBlockHeaderResult::Valid => Ok(Verdict::Accepted),
            ProcessBlockHeaderResult::Invalid(state) => {
                let reason = REASON.with(|r| r.borrow_mut().take());
                Ok(Verdict::Rejected {
                    class: class_of(state.result()),
                    reason: reason.unwrap_or_else(|| "<no reason logged>".to_string()),
                })
            }
        }
    }

    /// The best header (`m_best_header`: most work, first seen on ties).
    pub fn best_tip(&self) -> Option<Tip> {
        let e = self.chainman().best_entry()?;
        Some(Tip {
            height: u32::try_from(e.height()).ok()?,
            hash: BlockHash(e.block_hash().to_bytes()),
        })
    }

    /// The genesis parameters bitwire uses for this network, for callers
    /// that build chains on top of the engine.
    pub fn params(&self) -> &'static Params {
        Params::for_network(self.network)
    }
}

impl Drop for CoreEngine {
    fn drop(&mut self) {
        // Close the kernel first: it flushes into the directory on shutdown.
        drop(self.kernel.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::reason_from_log_line;

    #[test]
    fn reasons_are_read_from_core_log_lines() {
        let cases = [
            (
                "[validation] AcceptBlockHeader: Consensus::CheckBlockHeader: 00ab, high-hash, proof of work failed",
                Some("high-hash"),
            ),
            (
                "[validation] AcceptBlockHeader: Consensus::ContextualCheckBlockHeader: 00ab, bad-version(0x00000001), rejected nVersion=0x00000001 block",
                Some("bad-version(0x00000001)"),
            ),
            (
                "[validation] AcceptBlockHeader: Consensus::ContextualCheckBlockHeader: 00ab, time-too-new, block timestamp too far in the future\n",
                Some("time-too-new"),
            ),
            ("[validation] header 00ab has prev block not found: 00cd", Some("prev-blk-not-found")),
            ("Synchronizing blockheaders, height: 5 (~0.01%)", None),
        ];
        for (line, want) in cases {
            assert_eq!(reason_from_log_line(line).as_deref(), want, "{line}");
        }
    }
}
