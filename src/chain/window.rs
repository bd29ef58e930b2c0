//! A fixed-size view of the end of a chain, to validate headers with all of
//! Core's rules without storing them: the building block for a presync
//! against low-work header spam (Core's `HeadersSyncState`,
//! src/headerssync.cpp, keeps a similar bounded state per peer), and the
//! fastest way to check a chain that is only to be checked (`bitwire
//! validate` of a file): nothing is indexed or stored, so a header costs its
//! hash and a few compares, and [`ChainWindow::extend_par`] overlaps the
//! hashing on every core with the rules.
//!
//! Every rule looks back at most one retarget period (the period's first
//! block, the testnet walk-back to the last boundary, the median of 11), so
//! keeping the time and bits of the last [`ChainWindow::KEEP`] headers is
//! enough to check any extension exactly as the [`HeaderTree`] would. Memory
//! is fixed: 8 bytes per kept header, 16 KB per window, whatever the number
//! of headers fed through it.

use super::cache::PowCache;
use super::params::{Params, MAX_FUTURE_BLOCK_TIME, MEDIAN_TIME_SPAN};
use super::rules::{self, ChainContext};
use super::{Accepted, HeaderError, HeaderRejection, HeaderTree};
use crate::pow::{derive_target, hash_headers, meets_target, work_from_bits, CompactTarget, U256};
use crate::wire::{BlockHash, BlockHeader};

/// Slots of the ring of kept headers: a power of two above
/// [`ChainWindow::KEEP`], so that the slot of height `h` is `h % RING` and
/// the kept heights never share one.
const RING: usize = 2048;

/// The last headers of a chain: their times and bits, the tip's hash and the
/// chain's cumulative work. Invariant: the ring holds heights
/// `tip_height + 1 - kept ..= tip_height`, height `h` in slot `h % RING`.
#[derive(Clone)]
pub struct ChainWindow {
    params: Params,
    /// (time, bits) by height.
    ring: Box<[(u32, u32); RING]>,
    /// How many heights the ring holds (1 to [`ChainWindow::KEEP`]).
    kept: u32,
    tip_height: u32,
    tip_hash: BlockHash,
    chainwork: U256,
    /// On networks with min-difficulty blocks: the tip's height and its
    /// [`ChainContext::last_non_min_difficulty_bits`], so the rule's walk-back
    /// (up to a retarget period per header) is one step for the next header.
    walk_cache: Option<(u32, CompactTarget)>,
    /// The target and work of the last `nBits` seen.
    pow_cache: PowCache,
    /// At least the largest time kept: a header whose time is above it is
    /// after the median of its parent's 11 (one compare; the ring answers
    /// otherwise, see [`after_median_in`]).
    max_time: u32,
    /// Testnet's 20-minute exception, used on networks with min-difficulty
    /// blocks (the same for the whole window, so made once).
    min_difficulty: Option<MinDifficulty>,
    /// What lets the next headers be checked with a few compares, when the
    /// tip allows it.
    quick: Option<Quick>,
}

/// What decides, with a few compares, that a header extending the tip at a
/// height below `until` passes every rule; a header that does not meet it
/// goes through the rules themselves, which name what is wrong. Each compare
/// stands for one of Core's checks, as [`ChainWindow::quick_accepts`] says.
#[derive(Clone, Copy, Debug)]
struct Quick {
    /// The `nBits` every header below `until` must carry (but for the
    /// `exception`).
    bits: CompactTarget,
    /// Its target (valid: `derive_target` accepted it) and its work.
    target: U256,
    work: U256,
    /// On networks with min-difficulty blocks, testnet's 20-minute rule.
    exception: Option<MinDifficulty>,
    /// The first height not covered: the next retarget boundary, or the next
    /// height where the version minimum changes.
    until: u32,
    /// The version minimum below `until`.
    min_version: i32,
}

/// Core's `fPowAllowMinDifficultyBlocks` rule off a retarget boundary: a
/// header more than `gap` seconds after its parent must carry `bits`, the
/// minimum difficulty (and any other header the last `nBits` that were not
/// an exception, which [`Quick::bits`] holds: accepting either kind leaves
/// that answer as it was).
#[derive(Clone, Copy, Debug)]
struct MinDifficulty {
    gap: i64,
    bits: CompactTarget,
    target: U256,
    work: U256,
}

impl core::fmt::Debug for ChainWindow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChainWindow")
            .field("network", &self.params.network)
            .field("tip_height", &self.tip_height)
            .field("tip_hash", &self.tip_hash)
            .field("kept", &self.kept)
            .finish()
    }
}

impl ChainWindow {
    /// Headers kept: one retarget period, which every rule's look-back fits in.
    pub const KEEP: usize = 2016;

    /// A window holding only the genesis header of `params`: what
    /// [`HeaderTree::new`] would accept, without storing it.
    pub fn new(params: &Params) -> ChainWindow {
        ChainWindow::with_root(params, &params.genesis(), params.genesis_hash, 0)
    }

    /// A window ending at `anchor`, trusted to be the block at `height`, as
    /// [`HeaderTree::with_anchor`]: a rule that needs blocks below it is
    /// skipped, and chainwork counts from it.
    pub fn with_anchor(params: &Params, anchor: &BlockHeader, height: u32) -> ChainWindow {
        let height = height.min(i32::MAX as u32);
        ChainWindow::with_root(params, anchor, anchor.block_hash(), height)
    }

    fn with_root(params: &Params, root: &BlockHeader, hash: BlockHash, height: u32) -> ChainWindow {
        let mut pow_cache = PowCache::new(root.bits());
        let chainwork = pow_cache.work(root.bits());
        let mut window = ChainWindow {
            params: params.clone(),
            ring: Box::new([(0, 0); RING]),
            kept: 0,
            tip_height: height,
            tip_hash: hash,
            chainwork,
            walk_cache: None,
            pow_cache,
            max_time: 0,
            min_difficulty: None,
            quick: None,
        };
        let limit = params.pow_limit_bits();
        window.min_difficulty =
            derive_target(limit, &params.pow_limit).ok().map(|target| MinDifficulty {
                gap: params.pow_target_spacing * 2,
                bits: limit,
                target,
                work: work_from_bits(limit),
            });
        window.keep(height, root.time(), root.bits());
        window.tip_changed();
        window
    }

    /// A window ending at `hash`, a header of `tree` (on any branch), with the
    /// times and bits of its last [`ChainWindow::KEEP`] ancestors. `None` if
    /// the tree does not have `hash`.
    pub fn from_tree(tree: &HeaderTree, hash: &BlockHash) -> Option<ChainWindow> {
        let info = tree.get(hash)?;
        let mut window = ChainWindow::with_root(tree.params(), &info.header, *hash, info.height);
        window.chainwork = info.chainwork;
        let mut cur = info.header;
        let mut height = info.height;
        while (window.kept as usize) < Self::KEEP && height > tree.root_height() {
            cur = tree.get(&cur.prev_hash())?.header;
            height -= 1;
            window.keep(height, cur.time(), cur.bits());
        }
        window.tip_changed();
        Some(window)
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
        self.extend_hashed(headers, &hashes, now)
    }

    /// [`ChainWindow::extend`] with the hashes already computed: `hashes[i]`
    /// must be the block hash of the `i`-th header. If the counts differ,
    /// only the common prefix is processed. Allocates nothing.
    pub fn extend_hashed<'a, I>(
        &mut self,
        headers: I,
        hashes: &[BlockHash],
        now: u64,
    ) -> Result<usize, HeaderRejection>
    where
        I: IntoIterator<Item = &'a BlockHeader>,
    {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let max_time = now.saturating_add(MAX_FUTURE_BLOCK_TIME);
        let mut pairs = headers.into_iter().zip(hashes);
        let mut taken = 0;
        while let Some((header, hash)) = self.quick_run(&mut pairs, max_time, &mut taken) {
            if let Err(error) = self.extend_one(header, hash, now) {
                let accepted = Accepted {
                    new: taken,
                    known: 0,
                    best_tip_changed: taken > 0,
                    reorg_height: None,
                };
                return Err(HeaderRejection { index: taken, hash: *hash, error, accepted });
            }
            taken += 1;
        }
        Ok(taken)
    }

    /// Takes headers from `pairs` (header and hash) while [`Quick`] decides
    /// that each passes every rule, adding them to `taken`; returns the
    /// first it does not take, for the rules themselves to judge (`None`
    /// when `pairs` ran out). The state lives in locals meanwhile. A header
    /// is taken when (each compare implies one of Core's checks):
    ///
    /// - `CheckBlockHeader`: its `nBits` are `quick.bits`, whose target is
    ///   valid, and its hash is at or below that target;
    /// - its parent is the tip;
    /// - `bad-diffbits`: below `quick.until` (no retarget boundary) the
    ///   required `nBits` are `quick.bits`, or on testnet the minimum when
    ///   the header is more than 20 minutes after its parent;
    /// - `time-too-old`: its time is after the median of the tip's window;
    /// - `time-timewarp-attack` applies at retarget boundaries only, which
    ///   `quick.until` leaves out;
    /// - `time-too-new`: at most `max_time` (now + 2 hours);
    /// - `bad-version`: at least `quick.min_version`, the minimum below `until`.
    ///
    /// It then becomes the tip as in [`ChainWindow::extend_one`], with the
    /// work `quick` knows; on networks with min-difficulty blocks its
    /// walk-back answer is its parent's, `quick.bits` (it is not at a
    /// boundary, and it carries either the minimum, which inherits the
    /// answer, or `quick.bits` itself).
    #[inline]
    fn quick_run<'h, 'k>(
        &mut self,
        pairs: &mut impl Iterator<Item = (&'h BlockHeader, &'k BlockHash)>,
        max_time: i64,
        taken: &mut usize,
    ) -> Option<(&'h BlockHeader, &'k BlockHash)> {
        let Some(q) = self.quick else { return pairs.next() };
        // One loop per kind of network, so that mainnet's has no testnet
        // compare in it (measured: half a nanosecond a header).
        match q.exception {
            None => self.quick_loop::<_, false>(&q, pairs, max_time, taken),
            Some(_) => self.quick_loop::<_, true>(&q, pairs, max_time, taken),
        }
    }

    /// The loop of [`ChainWindow::quick_run`]; `MIN_DIFFICULTY` is whether
    /// `q` has the 20-minute exception.
    #[inline(always)]
    fn quick_loop<'h, 'k, I, const MIN_DIFFICULTY: bool>(
        &mut self,
        q: &Quick,
        pairs: &mut I,
        max_time: i64,
        taken: &mut usize,
    ) -> Option<(&'h BlockHeader, &'k BlockHash)>
    where
        I: Iterator<Item = (&'h BlockHeader, &'k BlockHash)>,
    {
        let mut max = self.max_time;
        let start_tip = self.tip_hash;
        let (mut height, mut tip) = (self.tip_height, &start_tip);
        let mut tip_time = self.slot(height).0;
        let last = q.until - 1;
        let ring = &mut *self.ring;
        let mut refused = None;
        let (mut run, mut exceptions) = (0, 0);
        for (h, hash) in pairs.by_ref() {
            let time = h.time();
            let (bits, target, exception) = match &q.exception {
                Some(e) if MIN_DIFFICULTY && i64::from(time) > i64::from(tip_time) + e.gap => {
                    (e.bits, &e.target, 1)
                }
                _ => (q.bits, &q.target, 0),
            };
            if !(height < last
                && h.bits() == bits
                && h.prev_hash() == *tip
                && (time > max || after_median_in(ring, height, time))
                && i64::from(time) <= max_time
                && h.version() >= q.min_version
                && meets_target(hash, target))
            {
                refused = Some((h, hash));
                break;
            }
            height += 1;
            ring[height as usize % RING] = (time, bits.to_consensus());
            max = max.max(time);
            (tip, tip_time) = (hash, time);
            run += 1;
            exceptions += exception;
        }
        if run > 0 {
            self.kept = (self.kept + run).min(Self::KEEP as u32);
            self.chainwork = add_work(self.chainwork, &q.work, run - exceptions);
            if let Some(e) = &q.exception {
                self.chainwork = add_work(self.chainwork, &e.work, exceptions);
            }
            (self.tip_height, self.tip_hash) = (height, *tip);
            self.max_time = max;
            if self.params.allow_min_difficulty_blocks {
                self.walk_cache = Some((height, q.bits));
            }
            *taken += run as usize;
        }
        refused
    }

    fn extend_one(
        &mut self,
        h: &BlockHeader,
        hash: &BlockHash,
        now: i64,
    ) -> Result<(), HeaderError> {
        // In the tree's order: CheckBlockHeader, the parent, then
        // ContextualCheckBlockHeader.
        let bits = h.bits();
        self.pow_cache.check(&self.params, hash, bits)?;
        if h.prev_hash() != self.tip_hash {
            return Err(HeaderError::PrevBlkNotFound { prev: h.prev_hash() });
        }
        rules::contextual_check(&self.params, self, self.tip_height, h, now)?;
        let parent_answer = self.walk_cache.filter(|&(h, _)| h == self.tip_height);
        let height = self.tip_height + 1;
        self.keep(height, h.time(), bits);
        self.tip_height = height;
        self.tip_hash = *hash;
        self.chainwork = self.chainwork.saturating_add(&self.pow_cache.work(bits));
        if self.params.allow_min_difficulty_blocks {
            let interval = self.params.difficulty_adjustment_interval();
            let limit = self.params.pow_limit_bits();
            let answer =
                rules::next_walk_answer(height, bits, interval, limit, || match parent_answer {
                    Some((_, bits)) => Some(bits),
                    None => rules::walk_non_min_difficulty(self, height - 1, interval, limit),
                });
            self.walk_cache = answer.map(|bits| (height, bits));
        }
        self.tip_changed();
        Ok(())
    }

    /// Records the time and bits of `height`, the new tip or (while a window
    /// is built) the ancestor below the oldest kept.
    #[inline]
    fn keep(&mut self, height: u32, time: u32, bits: CompactTarget) {
        self.ring[height as usize % RING] = (time, bits.to_consensus());
        self.kept = (self.kept + 1).min(Self::KEEP as u32);
        self.max_time = self.max_time.max(time);
    }

    /// Rebuilds what the window derives from its tip: [`Quick`].
    fn tip_changed(&mut self) {
        self.quick = self.quick();
    }

    /// [`Quick`] for the next header when it is not at a retarget boundary
    /// (and, on networks with min-difficulty blocks, when the walk-back
    /// answer of the tip is cached).
    fn quick(&mut self) -> Option<Quick> {
        let params = &self.params;
        let next = self.tip_height.checked_add(1)?;
        let interval = params.difficulty_adjustment_interval();
        if rules::is_retarget_height(next, interval) {
            return None;
        }
        // The median rule is decided from the ring, which must hold the
        // tip's 10 ancestors.
        if (self.kept as usize) < MEDIAN_TIME_SPAN {
            return None;
        }
        let (bits, exception) = if self.params.allow_min_difficulty_blocks {
            // `None` only for a limit that is no valid target: the rules decide.
            let e = self.min_difficulty?;
            // The walk-back answer from the cache only: a walk here would
            // repeat the one the next header's rules make without it.
            match self.walk_cache {
                Some((height, bits)) if height == self.tip_height => (bits, Some(e)),
                _ => return None,
            }
        } else {
            (self.bits(self.tip_height), None)
        };
        let boundary = next.checked_next_multiple_of(interval).unwrap_or(u32::MAX);
        let until =
            rules::next_version_change(&self.params, next).map_or(boundary, |c| c.min(boundary));
        let min_version = rules::min_version(&self.params, next);
        let target = self.pow_cache.target(&self.params, bits).ok()?;
        let work = self.pow_cache.work(bits);
        Some(Quick { bits, target, work, exception, until, min_version })
    }

    fn slot(&self, height: u32) -> (u32, u32) {
        self.ring[height as usize % RING]
    }

    /// The lowest height kept.
    fn oldest(&self) -> u32 {
        self.tip_height + 1 - self.kept
    }
}

/// Whether `time` is after the median of the 11 times in `ring` up to
/// `height` (which it holds): at least 6 of them below it. Scalar loads,
/// which take a time just written from the store buffer, where a vector
/// load of a small array waits for the write to land.
#[inline]
fn after_median_in(ring: &[(u32, u32); RING], height: u32, time: u32) -> bool {
    (0..MEDIAN_TIME_SPAN as u32)
        .filter(|&k| ring[height.wrapping_sub(k) as usize % RING].0 < time)
        .count()
        > MEDIAN_TIME_SPAN / 2
}

/// `chainwork` plus `count` times `work`, saturating: what `count` saturating
/// additions of `work` give, in one multiplication when the product fits.
fn add_work(chainwork: U256, work: &U256, count: u32) -> U256 {
    if work.bits() + u32::BITS <= 256 {
        chainwork.saturating_add(&work.wrapping_mul_u32(count))
    } else {
        (0..count).fold(chainwork, |sum, _| sum.saturating_add(work))
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
        (b > self.oldest()).then(|| b - 1)
    }

    fn check_median_time(&self, b: u32, time: u32) -> Result<(), i64> {
        // No sort in the common case; a failure is reported with the median.
        let ring_holds_11 = b >= self.oldest() + (MEDIAN_TIME_SPAN as u32 - 1);
        if ring_holds_11 && (time > self.max_time || after_median_in(&self.ring, b, time)) {
            return Ok(());
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

    fn ancestor(&self, _b: u32, height: u32) -> Option<u32> {
        (height >= self.oldest() && height <= self.tip_height).then_some(height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_added_at_once_is_work_added_one_by_one() {
        let one_by_one = |start: U256, work: &U256, n: u32| {
            (0..n).fold(start, |sum, _| sum.saturating_add(work))
        };
        let cases = [
            (U256::from_u64(5), U256::from_u64(2), 1000),
            (U256::from_u64(0), U256::MAX.shr(40), 3),
            // A product past 2^256 (the work of a target near zero): saturates.
            (U256::from_u64(1), U256::MAX.shr(3), 9),
            (U256::MAX.shr(1), U256::MAX.shr(2), 3),
            (U256::MAX, U256::from_u64(1), 2),
            (U256::from_u64(7), U256::from_u64(9), 0),
        ];
        for (start, work, n) in cases {
            assert_eq!(add_work(start, &work, n), one_by_one(start, &work, n), "{n}");
        }
    }
}
