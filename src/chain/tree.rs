//! The header tree: every valid header received, its cumulative work, and the
//! best chain (the most-work tip, first seen on ties, as Core's `m_best_header`).
//!
//! Layout: one `Vec` of fixed-size entries in insertion order (parents always
//! before children), a hash index into it, and the best chain as a `Vec` of
//! entry indices by height. An entry holds everything to rebuild its header
//! except the previous-block hash, which is the parent entry's hash:
//! [`HeaderTree::ENTRY_BYTES`] = 120 bytes. With the hash index (8-byte
//! slots, at most half full: see `index.rs`) and the best-chain vector, a
//! tree sized with [`HeaderTree::reserve`] took 150 bytes per header on the
//! 40,000 mainnet headers and one grown by doubling 229 (`tests/chain_tree.rs`
//! prints both; 184 and 263 with the `HashMap` index before). A million
//! headers take about 140 MB reserved.

use core::fmt;
use std::hash::BuildHasher;

use super::cache::{PowCache, TimeWindow};
use super::index::HashIndex;

use super::params::{Params, MEDIAN_TIME_SPAN};
use super::rules::{self, ChainContext};
use super::HeaderError;
use crate::pow::{hash_headers, CompactTarget, U256};
use crate::wire::{BlockHash, BlockHeader};

/// Marks "no parent" in [`Entry::prev`].
const NO_PARENT: u32 = u32::MAX;

/// One header in the tree.
#[derive(Clone, Copy)]
struct Entry {
    hash: BlockHash,
    merkle_root: [u8; 32],
    /// Cumulative work up to and including this header (Core's `nChainWork`).
    chainwork: U256,
    version: i32,
    time: u32,
    bits: u32,
    nonce: u32,
    /// Index of the parent entry, or [`NO_PARENT`] at the root.
    prev: u32,
    height: u32,
}

/// A per-tree random seed for the hash index.
fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(0u64)
}

/// The best tip of a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Its block hash.
    pub hash: BlockHash,
    /// Its height.
    pub height: u32,
    /// Cumulative work of the chain ending there (relative to the root when
    /// the tree starts at an anchor).
    pub chainwork: U256,
}

/// One header of the tree, with what the tree knows about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderInfo {
    /// The header.
    pub header: BlockHeader,
    /// Its hash.
    pub hash: BlockHash,
    /// Its height.
    pub height: u32,
    /// Cumulative work up to and including it.
    pub chainwork: U256,
    /// Whether it is on the best chain.
    pub in_best_chain: bool,
}

/// What one call to [`HeaderTree::accept`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Headers added to the tree.
    pub new: usize,
    /// Headers skipped because the tree already had them (not an error, as in Core).
    pub known: usize,
    /// Whether the best tip is different afterwards.
    pub best_tip_changed: bool,
    /// When the best chain switched branch (a reorg), the lowest height whose
    /// block changed; `None` when the best chain was only extended.
    pub reorg_height: Option<u32>,
}

/// A header the tree refused. The headers before it in the same call were
/// processed and stay in the tree (`accepted`), as Core does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderRejection {
    /// Position of the refused header in the batch.
    pub index: usize,
    /// Its hash.
    pub hash: BlockHash,
    /// The rule it broke.
    pub error: HeaderError,
    /// What the headers before it did.
    pub accepted: Accepted,
}

impl fmt::Display for HeaderRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "header {} ({}) rejected: {}: {}",
            self.index,
            self.hash,
            self.error,
            self.error.detail()
        )
    }
}

impl std::error::Error for HeaderRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Every valid header known, as a tree rooted at genesis (or at a trusted
/// anchor), with cumulative work and the best chain.
///
/// Invariants: every entry but the root has its parent in the tree at height
/// one less; an entry's chainwork is its parent's plus its own work; the best
/// tip has the most chainwork, and among equals it was the first added; the
/// best chain is the tip's ancestry, indexed by height.
#[derive(Clone)]
pub struct HeaderTree {
    params: Params,
    entries: Vec<Entry>,
    /// Entries are added to it with `insert_later`, and it is flushed
    /// before any lookup and before a call that adds entries returns, so
    /// that nothing outside those calls sees one missing.
    index: HashIndex,
    /// Entry index of the best-chain block at height `root_height + i`.
    best: Vec<u32>,
    root_height: u32,
    /// The root header's previous-block hash (not in the tree).
    root_prev: BlockHash,
    /// The target and work of the last `nBits` seen.
    pow_cache: PowCache,
    /// On networks with min-difficulty blocks: the last entry added and its
    /// [`ChainContext::last_non_min_difficulty_bits`], so the walk-back costs
    /// one step for a header extending it instead of up to a retarget period.
    walk_cache: Option<(u32, CompactTarget)>,
    /// The median-time-past window of the last entry added (when it has 10
    /// ancestors): the rule for a header extending it without walking.
    mtp_cache: Option<TimeWindow>,
}

impl fmt::Debug for HeaderTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderTree")
            .field("network", &self.params.network)
            .field("headers", &self.entries.len())
            .field("tip", &self.tip())
            .finish()
    }
}

impl HeaderTree {
    /// Bytes of one tree entry (the header minus its previous-block hash, plus
    /// hash, chainwork, parent index and height).
    pub const ENTRY_BYTES: usize = core::mem::size_of::<Entry>();

    /// A tree holding only the genesis header of `params`.
    pub fn new(params: &Params) -> HeaderTree {
        let genesis = params.genesis();
        HeaderTree::with_root(params, &genesis, params.genesis_hash, 0)
    }

    /// A tree rooted at `anchor`, trusted to be the block at `height`: no rule
    /// is checked for it, and a rule for a later header that needs blocks
    /// below the anchor (a retarget window, the median of 11 times, the
    /// testnet walk-back) is skipped. Chainwork counts from the anchor.
    /// With `height` 0 and the genesis header this is [`HeaderTree::new`].
    /// `height` is capped at `i32::MAX`, Core's largest (`int nHeight`).
    pub fn with_anchor(params: &Params, anchor: &BlockHeader, height: u32) -> HeaderTree {
        let height = height.min(i32::MAX as u32);
        HeaderTree::with_root(params, anchor, anchor.block_hash(), height)
    }

    fn with_root(params: &Params, root: &BlockHeader, hash: BlockHash, height: u32) -> HeaderTree {
        let mut pow_cache = PowCache::new(root.bits());
        let work = pow_cache.work(root.bits());
        let mut tree = HeaderTree {
            params: params.clone(),
            entries: Vec::new(),
            index: HashIndex::new(random_seed()),
            best: Vec::new(),
            root_height: height,
            root_prev: root.prev_hash(),
            pow_cache,
            walk_cache: None,
            mtp_cache: None,
        };
        tree.push_entry(root, hash, NO_PARENT, height, work);
        tree.index.insert_new(&hash, 0);
        tree.best.push(0);
        tree
    }

    /// The parameters the tree validates with.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Number of headers in the tree, root included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false: a tree holds at least its root.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The height of the root (0 unless built [`HeaderTree::with_anchor`]).
    pub fn root_height(&self) -> u32 {
        self.root_height
    }

    /// The best tip.
    pub fn tip(&self) -> Tip {
        let e = &self.entries[*self.best.last().expect("best chain holds the root") as usize];
        Tip { hash: e.hash, height: e.height, chainwork: e.chainwork }
    }

    /// Whether the tree has `hash`.
    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.find(hash).is_some()
    }

    /// The entry number of `hash`.
    fn find(&self, hash: &BlockHash) -> Option<u32> {
        self.index.get(hash, |i| self.entries[i as usize].hash)
    }

    /// The height of `hash`, if the tree has it (on any branch).
    pub fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.find(hash).map(|i| self.entries[i as usize].height)
    }

    /// Everything the tree knows about `hash`.
    pub fn get(&self, hash: &BlockHash) -> Option<HeaderInfo> {
        let i = self.find(hash)?;
        let e = &self.entries[i as usize];
        Some(HeaderInfo {
            header: self.header_of(i),
            hash: e.hash,
            height: e.height,
            chainwork: e.chainwork,
            in_best_chain: self.on_best(i),
        })
    }

    /// The best-chain header at `height`.
    pub fn header_at(&self, height: u32) -> Option<BlockHeader> {
        self.best_index_at(height).map(|i| self.header_of(i))
    }

    /// The best-chain block hash at `height`.
    pub fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.best_index_at(height).map(|i| self.entries[i as usize].hash)
    }

    /// Approximate heap memory the tree holds, in bytes (entries, hash index
    /// and best chain, by capacity).
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * Self::ENTRY_BYTES
            + self.index.heap_bytes()
            + self.best.capacity() * 4
    }

    /// Reserves room for `additional` more headers, so a tree of known size
    /// (a store being loaded, a file being validated) does not over-allocate.
    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve_exact(additional);
        self.index.reserve(additional);
        self.best.reserve_exact(additional);
    }

    /// Makes room for `additional` more headers the way a `Vec` grows (at
    /// least doubling), unlike [`HeaderTree::reserve`]'s exact fit: for
    /// callers that add batch after batch.
    pub(super) fn make_room(&mut self, additional: usize) {
        self.entries.reserve(additional);
        self.index.reserve(additional);
        self.best.reserve(additional);
    }

    /// The entries' unused capacity, for faulting it in ahead of the writes
    /// ([`HeaderTree::accept_par`]).
    pub(super) fn spare_entries(&self) -> crate::mem::Spare {
        crate::mem::Spare::of(&self.entries)
    }

    /// Faults in, in one call, the memory the next `count` headers added
    /// will be written to (where the tree already has the room: it reserves
    /// nothing), instead of one page fault at a time as they are added. Only
    /// a matter of speed, for a caller about to [`HeaderTree::accept`] a
    /// batch into a large, fresh tree (the sync engine does, per message).
    pub fn prefault(&self, count: usize) {
        self.spare_entries().populate(0..count);
    }

    /// The headers added since the tree had `mark` entries, in insertion order
    /// (parents before children): record `tree.len()` before [`HeaderTree::accept`]
    /// and pass it here to get what to append to a
    /// [`HeaderStore`](super::store::HeaderStore).
    pub fn inserted_since(&self, mark: usize) -> impl Iterator<Item = BlockHeader> + '_ {
        (mark.min(self.entries.len())..self.entries.len()).map(|i| self.header_of(i as u32))
    }

    /// Validates and adds a batch of headers (for example one `headers`
    /// message: a `&[BlockHeader]`, or the wire layer's `HeadersView`
    /// iterator) with Core's rules, against the caller's clock `now` (seconds
    /// since the Unix epoch). The batch is hashed once with [`hash_headers`].
    /// Known headers are skipped. Stops at the first invalid header; the ones
    /// before it stay added.
    pub fn accept<'a, I>(&mut self, headers: I, now: u64) -> Result<Accepted, HeaderRejection>
    where
        I: IntoIterator<Item = &'a BlockHeader>,
        I::IntoIter: Clone,
    {
        let headers = headers.into_iter();
        // The size hint only sizes the buffer; it is capped so that a wrong
        // hint cannot reserve much.
        let mut hashes = Vec::with_capacity(headers.size_hint().0.min(1 << 16));
        hash_headers(headers.clone(), &mut hashes);
        self.accept_hashed(headers, &hashes, now)
    }

    /// [`HeaderTree::accept`] with the hashes already computed: `hashes[i]`
    /// must be the block hash of the `i`-th header. If the counts differ,
    /// only the common prefix is processed. Allocates nothing once the tree
    /// has room ([`HeaderTree::reserve`]).
    pub fn accept_hashed<'a, I>(
        &mut self,
        headers: I,
        hashes: &[BlockHash],
        now: u64,
    ) -> Result<Accepted, HeaderRejection>
    where
        I: IntoIterator<Item = &'a BlockHeader>,
    {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let old_tip = *self.best.last().expect("root");
        let mut acc = Accepted { new: 0, known: 0, best_tip_changed: false, reorg_height: None };
        for (i, (header, hash)) in headers.into_iter().zip(hashes).enumerate() {
            if let Err(error) = self.accept_one(header, hash, now, &mut acc) {
                self.end_batch(&mut acc, old_tip);
                return Err(HeaderRejection { index: i, hash: *hash, error, accepted: acc });
            }
        }
        self.end_batch(&mut acc, old_tip);
        Ok(acc)
    }

    /// Ends a call that adds entries: the index inserts held back go in
    /// (see `index`), and `acc` says whether the best tip moved from `old_tip`.
    fn end_batch(&mut self, acc: &mut Accepted, old_tip: u32) {
        self.index.flush();
        acc.best_tip_changed = *self.best.last().expect("root") != old_tip;
    }

    fn accept_one(
        &mut self,
        header: &BlockHeader,
        hash: &BlockHash,
        now: i64,
        acc: &mut Accepted,
    ) -> Result<(), HeaderError> {
        // AcceptBlockHeader: duplicate, then CheckBlockHeader, then the parent,
        // then ContextualCheckBlockHeader.
        let prev = header.prev_hash();
        let last = (self.entries.len() - 1) as u32;
        // Headers mostly extend the one added just before. Such a header
        // cannot be in the tree (entries are added after their parent, and
        // nothing was added after this one), so both lookups are skipped.
        let parent = if self.entries[last as usize].hash == prev {
            self.pow_cache.check(&self.params, hash, header.bits())?;
            last
        } else {
            self.index.flush();
            if self.find(hash).is_some() {
                acc.known += 1;
                return Ok(());
            }
            self.pow_cache.check(&self.params, hash, header.bits())?;
            match self.find(&prev) {
                Some(p) => p,
                None => return Err(HeaderError::PrevBlkNotFound { prev }),
            }
        };
        rules::contextual_check(&self.params, self, parent, header, now)?;
        self.insert(header, *hash, parent, acc);
        acc.new += 1;
        Ok(())
    }

    /// Adds headers without checking any rule but the link to a known parent:
    /// for headers this tree (or a store written from one) already validated.
    /// Returns how many were new; a header whose parent is unknown stops it.
    pub fn extend_trusted(
        &mut self,
        headers: &[BlockHeader],
        hashes: &[BlockHash],
    ) -> Result<Accepted, HeaderRejection> {
        let old_tip = *self.best.last().expect("root");
        let mut acc = Accepted { new: 0, known: 0, best_tip_changed: false, reorg_height: None };
        for (i, (header, hash)) in headers.iter().zip(hashes).enumerate() {
            let prev = header.prev_hash();
            let last = (self.entries.len() - 1) as u32;
            // As in `accept_one`: a child of the last entry is new.
            let parent = if self.entries[last as usize].hash == prev {
                Some(last)
            } else {
                self.index.flush();
                if self.find(hash).is_some() {
                    acc.known += 1;
                    continue;
                }
                self.find(&prev)
            };
            let Some(parent) = parent else {
                self.end_batch(&mut acc, old_tip);
                return Err(HeaderRejection {
                    index: i,
                    hash: *hash,
                    error: HeaderError::PrevBlkNotFound { prev },
                    accepted: acc,
                });
            };
            self.insert(header, *hash, parent, &mut acc);
            acc.new += 1;
        }
        self.end_batch(&mut acc, old_tip);
        Ok(acc)
    }

    /// Adds an entry (and its index slot) for a header whose parent is `parent`.
    fn insert(&mut self, header: &BlockHeader, hash: BlockHash, parent: u32, acc: &mut Accepted) {
        let p = &self.entries[parent as usize];
        let (p_work, p_height) = (p.chainwork, p.height);
        // Saturating: 2^256 of work cannot be reached without breaking sha256d,
        // but a saturated sum keeps the best-chain order meaningful regardless.
        let chainwork = p_work.saturating_add(&self.pow_cache.work(header.bits()));
        let idx = self.push_entry(header, hash, parent, p_height + 1, chainwork);
        if self.params.allow_min_difficulty_blocks {
            self.update_walk_cache(parent, idx);
        }
        self.update_mtp_cache(parent, idx);
        self.index.insert_later(&hash, idx);
        let tip = *self.best.last().expect("root");
        if chainwork > self.entries[tip as usize].chainwork {
            if parent == tip {
                self.best.push(idx);
            } else {
                let fork = self.switch_best(idx);
                acc.reorg_height = Some(acc.reorg_height.map_or(fork, |h| h.min(fork)));
            }
        }
    }

    fn push_entry(
        &mut self,
        h: &BlockHeader,
        hash: BlockHash,
        prev: u32,
        height: u32,
        chainwork: U256,
    ) -> u32 {
        let idx = self.entries.len() as u32;
        self.entries.push(Entry {
            hash,
            merkle_root: h.merkle_root,
            chainwork,
            version: h.version(),
            time: h.time(),
            bits: h.bits().to_consensus(),
            nonce: h.nonce(),
            prev,
            height,
        });
        idx
    }

    /// Records the times window of the new entry `idx`: its parent's shifted
    /// by one when the parent's is cached and full, else walked.
    fn update_mtp_cache(&mut self, parent: u32, idx: u32) {
        let time = self.entries[idx as usize].time;
        // Updated in place: copying the window out and back after a 4-byte
        // write stalls store forwarding, as shifting did.
        if let Some(w) = &mut self.mtp_cache {
            if w.block == parent {
                w.push(idx, time);
                return;
            }
        }
        let mut times = [0u32; MEDIAN_TIME_SPAN];
        let mut cur = Some(idx);
        let mut n = 0;
        while let (Some(b), true) = (cur, n < MEDIAN_TIME_SPAN) {
            times[MEDIAN_TIME_SPAN - 1 - n] = self.entries[b as usize].time;
            n += 1;
            cur = self.parent(b);
        }
        self.mtp_cache = (n == MEDIAN_TIME_SPAN).then(|| TimeWindow::new(idx, times));
    }

    /// Records the walk-back answer for the new entry `idx`: its own bits if
    /// it ends a walk, else its parent's answer (cached when the parent was
    /// the entry added before it, walked otherwise).
    fn update_walk_cache(&mut self, parent: u32, idx: u32) {
        let interval = self.params.difficulty_adjustment_interval();
        let limit = self.params.pow_limit_bits();
        let e = &self.entries[idx as usize];
        let answer = rules::next_walk_answer(
            e.height,
            CompactTarget(e.bits),
            interval,
            limit,
            || match self.walk_cache {
                Some((b, bits)) if b == parent => Some(bits),
                _ => rules::walk_non_min_difficulty(self, parent, interval, limit),
            },
        );
        self.walk_cache = answer.map(|bits| (idx, bits));
    }

    /// Makes `new_tip` the best tip; returns the lowest height that changed.
    fn switch_best(&mut self, new_tip: u32) -> u32 {
        let mut path = Vec::new();
        let mut cur = new_tip;
        while !self.on_best(cur) {
            path.push(cur);
            cur = self.entries[cur as usize].prev;
        }
        let fork_height = self.entries[cur as usize].height;
        self.best.truncate((fork_height - self.root_height + 1) as usize);
        self.best.extend(path.iter().rev());
        fork_height + 1
    }

    fn on_best(&self, i: u32) -> bool {
        let h = self.entries[i as usize].height;
        self.best.get((h - self.root_height) as usize) == Some(&i)
    }

    fn best_index_at(&self, height: u32) -> Option<u32> {
        self.best.get(height.checked_sub(self.root_height)? as usize).copied()
    }

    fn header_of(&self, i: u32) -> BlockHeader {
        use zerocopy::little_endian::{I32, U32};
        let e = &self.entries[i as usize];
        let prev =
            if e.prev == NO_PARENT { self.root_prev } else { self.entries[e.prev as usize].hash };
        BlockHeader {
            version: I32::new(e.version),
            prev_blockhash: prev,
            merkle_root: e.merkle_root,
            time: U32::new(e.time),
            bits: U32::new(e.bits),
            nonce: U32::new(e.nonce),
        }
    }

    /// A block locator for the best tip, as Core's `LocatorEntries`: the tip,
    /// then ten more one by one, then doubling steps back, ending at the root.
    pub fn locator(&self) -> Vec<BlockHash> {
        let mut have = Vec::with_capacity(32);
        let mut height = self.tip().height;
        let mut step = 1u32;
        loop {
            have.push(self.hash_at(height).expect("height on the best chain"));
            if height == self.root_height {
                break;
            }
            height = height.saturating_sub(step).max(self.root_height);
            if have.len() > 10 {
                step = step.saturating_mul(2);
            }
        }
        have
    }

    /// Headers to answer a `getheaders`, as Core's `ProcessGetHeaders`: start
    /// after the first locator hash on the best chain (after the root if none
    /// is), follow the best chain, stop after `stop` or `max` headers. An
    /// empty locator asks for the `stop` header alone.
    pub fn headers_after(
        &self,
        locator: &[BlockHash],
        stop: BlockHash,
        max: usize,
    ) -> Vec<BlockHeader> {
        let mut out = Vec::new();
        self.headers_after_into(locator, stop, max, &mut out);
        out
    }

    /// [`HeaderTree::headers_after`] into the caller's buffer, which is
    /// cleared first: a server that keeps one buffer answers every
    /// `getheaders` without allocating once it has held `max` headers.
    pub fn headers_after_into(
        &self,
        locator: &[BlockHash],
        stop: BlockHash,
        max: usize,
        out: &mut Vec<BlockHeader>,
    ) {
        out.clear();
        if max == 0 {
            return;
        }
        let start = if locator.is_empty() {
            match self.find(&stop) {
                Some(i) if self.on_best(i) => self.entries[i as usize].height,
                _ => return,
            }
        } else {
            self.find_fork(locator) + 1
        };
        let tip_height = self.tip().height;
        let count = (tip_height.saturating_add(1).saturating_sub(start) as usize).min(max);
        out.reserve_exact(count);
        for h in start..start.saturating_add(count as u32) {
            let i = self.best_index_at(h).expect("height within the best chain");
            out.push(self.header_of(i));
            if self.entries[i as usize].hash == stop {
                break;
            }
        }
    }

    /// Core's `FindForkInGlobalIndex`: the height of the first locator entry on
    /// the best chain (or the tip, if an entry descends from it), else the root.
    fn find_fork(&self, locator: &[BlockHash]) -> u32 {
        let tip = self.tip();
        for hash in locator {
            if let Some(i) = self.find(hash) {
                if self.on_best(i) {
                    return self.entries[i as usize].height;
                }
                if self.entries[i as usize].height > tip.height
                    && self.ancestor(i, tip.height).map(|a| self.entries[a as usize].hash)
                        == Some(tip.hash)
                {
                    return tip.height;
                }
            }
        }
        self.root_height
    }
}

impl ChainContext for HeaderTree {
    type Block = u32;

    fn height(&self, b: u32) -> u32 {
        self.entries[b as usize].height
    }

    fn time(&self, b: u32) -> u32 {
        self.entries[b as usize].time
    }

    fn bits(&self, b: u32) -> CompactTarget {
        CompactTarget(self.entries[b as usize].bits)
    }

    fn parent(&self, b: u32) -> Option<u32> {
        let p = self.entries[b as usize].prev;
        (p != NO_PARENT).then_some(p)
    }

    fn median_time_past(&self, b: u32) -> Option<i64> {
        match &self.mtp_cache {
            Some(w) if w.block == b => Some(w.median()),
            _ => rules::median_time_past(self, b),
        }
    }

    fn check_median_time(&self, b: u32, time: u32) -> Result<(), i64> {
        if let Some(w) = &self.mtp_cache {
            // No sort in the common case; a failure is reported with the median.
            if w.block == b && w.after_median(time) {
                return Ok(());
            }
        }
        rules::time_after_median(self, b, time)
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

    fn ancestor(&self, b: u32, height: u32) -> Option<u32> {
        if height < self.root_height || height > self.entries[b as usize].height {
            return None;
        }
        let mut cur = b;
        loop {
            if self.on_best(cur) {
                return self.best_index_at(height);
            }
            let e = &self.entries[cur as usize];
            if e.height == height {
                return Some(cur);
            }
            cur = e.prev;
        }
    }
}
