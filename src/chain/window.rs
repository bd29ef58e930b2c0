//! A fixed-size view of the end of a chain, to validate headers with all of
//! Core's rules without storing them: the building block for a presync
//! against low-work header spam (Core's `HeadersSyncState`,
//! src/headerssync.cpp, keeps a similar bounded state per peer).
//!
//! Every rule looks back at most one retarget period (the period's first
//! block, the testnet walk-back to the last boundary, the median of 11), so
//! keeping the time and bits of the last [`ChainWindow::KEEP`] headers is
//! enough to check any extension exactly as the [`HeaderTree`] would. Memory
//! is fixed: 8 bytes per kept header, about 16 KB per window, whatever the
//! number of headers fed through it.

use std::collections::VecDeque;

use super::params::Params;
use super::rules::{self, ChainContext};
use super::{HeaderError, HeaderRejection, HeaderTree};
use crate::pow::{hash_headers, work_from_bits, CompactTarget, U256};
use crate::wire::{BlockHash, BlockHeader};

/// The last headers of a chain: their times and bits, the tip's hash and the
/// chain's cumulative work. Invariant: `kept` holds heights
/// `tip_height + 1 - kept.len() ..= tip_height`, consecutive.
#[derive(Clone, Debug)]
pub struct ChainWindow {
    params: Params,
    /// (time, bits) by height, oldest first.
    kept: VecDeque<(u32, u32)>,
    tip_height: u32,
    tip_hash: BlockHash,
    chainwork: U256,
    /// On networks with min-difficulty blocks: the tip's height and its
    /// [`ChainContext::last_non_min_difficulty_bits`], so the rule's walk-back
    /// (up to a retarget period per header) is one step for the next header.
    walk_cache: Option<(u32, CompactTarget)>,
}

impl ChainWindow {
    /// Headers kept: one retarget period, which every rule's look-back fits in.
    pub const KEEP: usize = 2016;

    /// A window ending at `hash`, a header of `tree` (on any branch), with the
    /// times and bits of its last [`ChainWindow::KEEP`] ancestors. `None` if
    /// the tree does not have `hash`.
    pub fn from_tree(tree: &HeaderTree, hash: &BlockHash) -> Option<ChainWindow> {
        let info = tree.get(hash)?;
        let mut kept = VecDeque::with_capacity(Self::KEEP);
        let mut cur = info.header;
        let mut height = info.height;
        loop {
            kept.push_front((cur.time(), cur.bits().to_consensus()));
            if kept.len() == Self::KEEP || height == tree.root_height() {
                break;
            }
            cur = tree.get(&cur.prev_hash())?.header;
            height -= 1;
        }
        Some(ChainWindow {
            params: tree.params().clone(),
            kept,
            tip_height: info.height,
            tip_hash: *hash,
            chainwork: info.chainwork,
            walk_cache: None,
        })
    }

    /// The tip's hash.
    pub fn tip_hash(&self) -> BlockHash {
        self.tip_hash
    }

    /// The tip's height.
    pub fn tip_height(&self) -> u32 {
        self.tip_height
    }

    /// Cumulative work up to the tip.
    pub fn chainwork(&self) -> U256 {
        self.chainwork
    }

    /// Validates `headers` as a continuation of the tip (each header's parent
    /// is the one before it; the first's is the tip) with the same rules as
    /// [`HeaderTree::accept`], and advances the window over the valid prefix.
    /// Returns how many headers were taken. A header that does not continue
    /// the chain is `prev-blk-not-found`.
    pub fn extend<'a, I>(&mut self, headers: I, now: u64) -> Result<usize, HeaderRejection>
    where
        I: IntoIterator<Item = &'a BlockHeader>,
        I::IntoIter: Clone,
    {
        let headers = headers.into_iter();
        let mut hashes = Vec::with_capacity(headers.size_hint().0.min(1 << 16));
        hash_headers(headers.clone(), &mut hashes);
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        for (i, (h, hash)) in headers.zip(&hashes).enumerate() {
            if let Err(error) = self.extend_one(h, hash, now) {
                let accepted = super::Accepted {
                    new: i,
                    known: 0,
                    best_tip_changed: i > 0,
                    reorg_height: None,
                };
                return Err(HeaderRejection { index: i, hash: *hash, error, accepted });
            }
        }
        Ok(hashes.len())
    }

    fn extend_one(
        &mut self,
        h: &BlockHeader,
        hash: &BlockHash,
        now: i64,
    ) -> Result<(), HeaderError> {
        rules::check_header(&self.params, hash, h)?;
        if h.prev_hash() != self.tip_hash {
            return Err(HeaderError::PrevBlkNotFound { prev: h.prev_hash() });
        }
        rules::contextual_check(&self.params, self, self.tip_height, h, now)?;
        if self.kept.len() == Self::KEEP {
            self.kept.pop_front();
        }
        self.kept.push_back((h.time(), h.bits().to_consensus()));
        let parent_answer = self.walk_cache.filter(|&(h, _)| h == self.tip_height);
        self.tip_height += 1;
        self.tip_hash = *hash;
        if self.params.allow_min_difficulty_blocks {
            let interval = self.params.difficulty_adjustment_interval();
            let limit = self.params.pow_limit_bits();
            let answer =
                rules::next_walk_answer(self.tip_height, h.bits(), interval, limit, || {
                    match parent_answer {
                        Some((_, bits)) => Some(bits),
                        None => {
                            rules::walk_non_min_difficulty(self, self.tip_height, interval, limit)
                        }
                    }
                });
            self.walk_cache = answer.map(|bits| (self.tip_height, bits));
        }
        self.chainwork = self.chainwork.saturating_add(&work_from_bits(h.bits()));
        Ok(())
    }

    fn slot(&self, height: u32) -> (u32, u32) {
        let oldest = self.tip_height + 1 - self.kept.len() as u32;
        self.kept[(height - oldest) as usize]
    }
}

impl ChainContext for ChainWindow {
    type Block = u32;

    fn height(&self, b: u32) -> u32 {
        b
    }

    fn time(&self, b: u32) -> u32 {
        self.slot(b).0
    }

    fn bits(&self, b: u32) -> CompactTarget {
        CompactTarget(self.slot(b).1)
    }

    fn parent(&self, b: u32) -> Option<u32> {
        let oldest = self.tip_height + 1 - self.kept.len() as u32;
        (b > oldest).then(|| b - 1)
    }

    fn last_non_min_difficulty_bits(
        &self,
        b: u32,
        interval: u32,
        limit_bits: CompactTarget,
    ) -> Option<CompactTarget> {
        match self.walk_cache {
            Some((cached, bits)) if cached == b => Some(bits),
            _ => rules::walk_non_min_difficulty(self, b, interval, limit_bits),
        }
    }

    fn ancestor(&self, _b: u32, height: u32) -> Option<u32> {
        let oldest = self.tip_height + 1 - self.kept.len() as u32;
        (height >= oldest && height <= self.tip_height).then_some(height)
    }
}
