//! Bitcoin Core's header rules: `CheckBlockHeader` and
//! `ContextualCheckBlockHeader` (src/validation.cpp), `GetNextWorkRequired` and
//! `CalculateNextWorkRequired` (src/pow.cpp), `GetMedianTimePast` (src/chain.h).
//!
//! The rules read the chain a header builds on through [`ChainContext`], so the
//! same code serves the [`HeaderTree`](super::HeaderTree) and any other view
//! of a chain (a presync window, for instance). A context may start at a
//! trusted anchor above genesis; a rule whose inputs lie below the anchor is
//! then skipped, and only that rule.

use super::params::{Params, MAX_FUTURE_BLOCK_TIME, MAX_TIMEWARP, MEDIAN_TIME_SPAN};
use super::HeaderError;
use crate::pow::{check_proof_of_work, CompactTarget};
use crate::wire::{BlockHash, BlockHeader};

/// Read access to a chain of accepted headers, for the contextual rules.
pub trait ChainContext {
    /// A handle to one block of the chain.
    type Block: Copy;
    /// The block's height.
    fn height(&self, b: Self::Block) -> u32;
    /// The block's `nTime`.
    fn time(&self, b: Self::Block) -> u32;
    /// The block's `nBits`.
    fn bits(&self, b: Self::Block) -> CompactTarget;
    /// The block's parent; `None` at the root (genesis, or a trusted anchor).
    fn parent(&self, b: Self::Block) -> Option<Self::Block>;
    /// The ancestor of `b` at `height` (`height <= self.height(b)`); `None`
    /// when that height is below the root.
    fn ancestor(&self, b: Self::Block, height: u32) -> Option<Self::Block>;

    /// `GetMedianTimePast` of `b` (see [`median_time_past`], which is the
    /// default); a context may answer from a cache.
    fn median_time_past(&self, b: Self::Block) -> Option<i64> {
        median_time_past(self, b)
    }

    /// Core's `time-too-old` rule for a child of `b` with time `time`:
    /// `Err(median)` when `time` is not after `b`'s median time past, `Ok`
    /// when it is or the median is unknown. The default asks
    /// [`ChainContext::median_time_past`]; a context may answer without
    /// computing the median when the rule holds.
    fn check_median_time(&self, b: Self::Block, time: u32) -> Result<(), i64> {
        time_after_median(self, b, time)
    }

    /// The `nBits` of the last block at or before `b` that is at a retarget
    /// boundary (a multiple of `interval`) or not at the minimum difficulty
    /// `limit_bits`: the walk-back of Core's `GetNextWorkRequired` on networks
    /// with `fPowAllowMinDifficultyBlocks`. `None` when the walk would pass the
    /// root. The walk can take a whole retarget period (regtest and long
    /// testnet runs are all minimum difficulty), so a context may answer from
    /// a cache; the default walks.
    fn last_non_min_difficulty_bits(
        &self,
        b: Self::Block,
        interval: u32,
        limit_bits: CompactTarget,
    ) -> Option<CompactTarget> {
        walk_non_min_difficulty(self, b, interval, limit_bits)
    }
}

/// Whether `height` starts a retarget period of `interval` blocks.
#[inline]
pub(crate) fn is_retarget_height(height: u32, interval: u32) -> bool {
    height.is_multiple_of(interval)
}

/// The walk-back answer for a new block at `height` with `bits`, from its
/// parent's answer: a block at a retarget boundary or above the minimum
/// difficulty ends the walk itself; any other block inherits the answer of
/// its parent, which `parent_answer` gives (from a cache, or by walking).
/// Lets a context keep [`ChainContext::last_non_min_difficulty_bits`] in
/// O(1) per appended block.
pub fn next_walk_answer(
    height: u32,
    bits: CompactTarget,
    interval: u32,
    limit_bits: CompactTarget,
    parent_answer: impl FnOnce() -> Option<CompactTarget>,
) -> Option<CompactTarget> {
    if !is_retarget_height(height, interval) && bits == limit_bits {
        parent_answer()
    } else {
        Some(bits)
    }
}

/// The walk behind [`ChainContext::last_non_min_difficulty_bits`], block by block.
pub fn walk_non_min_difficulty<C: ChainContext + ?Sized>(
    ctx: &C,
    mut b: C::Block,
    interval: u32,
    limit_bits: CompactTarget,
) -> Option<CompactTarget> {
    while !is_retarget_height(ctx.height(b), interval) && ctx.bits(b) == limit_bits {
        // Core would keep walking below the anchor.
        b = ctx.parent(b)?;
    }
    Some(ctx.bits(b))
}

/// The rule behind [`ChainContext::check_median_time`], from
/// [`ChainContext::median_time_past`] (which may sort): the default, and
/// what a context that answers from a cache falls back to.
pub fn time_after_median<C: ChainContext + ?Sized>(
    ctx: &C,
    b: C::Block,
    time: u32,
) -> Result<(), i64> {
    match ctx.median_time_past(b) {
        Some(mtp) if i64::from(time) <= mtp => Err(mtp),
        _ => Ok(()),
    }
}

/// Core's `CheckBlockHeader`: the proof of work of a header whose hash is `hash`.
pub fn check_header(
    params: &Params,
    hash: &BlockHash,
    header: &BlockHeader,
) -> Result<(), HeaderError> {
    check_proof_of_work(hash, header.bits(), &params.pow_limit).map_err(HeaderError::HighHash)
}

/// `GetMedianTimePast` of `prev`: the median time of `prev` and up to 10 of
/// its ancestors. `None` when fewer than 11 are known and the root is not genesis.
pub fn median_time_past<C: ChainContext + ?Sized>(ctx: &C, prev: C::Block) -> Option<i64> {
    // Filled from the end, so the array is in chain order: block times are
    // nearly sorted already and the insertion sort below does little work.
    let mut times = [0i64; MEDIAN_TIME_SPAN];
    let mut n = 0;
    let mut cur = Some(prev);
    let mut last = prev;
    while let Some(b) = cur {
        if n == MEDIAN_TIME_SPAN {
            break;
        }
        times[MEDIAN_TIME_SPAN - 1 - n] = i64::from(ctx.time(b));
        n += 1;
        last = b;
        cur = ctx.parent(b);
    }
    if n < MEDIAN_TIME_SPAN && ctx.height(last) != 0 {
        return None; // the chain is cut at an anchor: the median is unknown
    }
    Some(median_of(&mut times[MEDIAN_TIME_SPAN - n..]))
}

/// The median of `t` as Core takes it (`pbegin[(pend - pbegin) / 2]` after
/// sorting), sorting `t` in place; best when `t` is nearly sorted already.
pub fn median_of(t: &mut [i64]) -> i64 {
    for i in 1..t.len() {
        let v = t[i];
        let mut j = i;
        while j > 0 && t[j - 1] > v {
            t[j] = t[j - 1];
            j -= 1;
        }
        t[j] = v;
    }
    t[t.len() / 2]
}

/// Core's `GetNextWorkRequired`: the `nBits` a header at `prev`'s height + 1
/// with time `time` must carry. `None` when the answer depends on blocks
/// below the context's anchor.
pub fn next_work_required<C: ChainContext>(
    params: &Params,
    ctx: &C,
    prev: C::Block,
    time: u32,
) -> Option<CompactTarget> {
    let interval = params.difficulty_adjustment_interval();
    let prev_height = ctx.height(prev);
    if !is_retarget_height(prev_height + 1, interval) {
        if params.allow_min_difficulty_blocks {
            let limit_bits = params.pow_limit_bits();
            // testnet: a block more than 2 * 10 minutes after its parent may
            // use the minimum difficulty.
            if i64::from(time) > i64::from(ctx.time(prev)) + params.pow_target_spacing * 2 {
                return Some(limit_bits);
            }
            // Otherwise the last block that was not a min-difficulty exception.
            return ctx.last_non_min_difficulty_bits(prev, interval, limit_bits);
        }
        return Some(ctx.bits(prev));
    }
    if params.no_retargeting {
        return Some(ctx.bits(prev));
    }
    // The period's first block: Core's window of interval - 1 intervals.
    let first = ctx.ancestor(prev, prev_height - (interval - 1))?;
    let base = if params.enforce_bip94 { ctx.bits(first) } else { ctx.bits(prev) };
    Some(calculate_next_work_required(
        params,
        i64::from(ctx.time(prev)),
        i64::from(ctx.time(first)),
        base,
    ))
}

/// Core's `CalculateNextWorkRequired` (without the `fPowNoRetargeting` early
/// return, which [`next_work_required`] handles): `base * timespan /
/// target_timespan` with the timespan clamped to a factor of 4 either way,
/// truncated as `arith_uint256` truncates, capped at `powLimit`.
pub fn calculate_next_work_required(
    params: &Params,
    last_time: i64,
    first_time: i64,
    base: CompactTarget,
) -> CompactTarget {
    let timespan = (last_time - first_time)
        .clamp(params.pow_target_timespan / 4, params.pow_target_timespan * 4);
    // After the clamp the timespan fits in a u32, as Core's `operator*=(uint32_t)` needs.
    let new = base
        .expand()
        .target
        .wrapping_mul_u32(timespan as u32)
        .checked_div_u64(params.pow_target_timespan as u64)
        .unwrap_or_default();
    let new = if new > params.pow_limit { params.pow_limit } else { new };
    CompactTarget::from_target(&new, false)
}

/// The lowest `nVersion` a header at `height` may have: Core tests v<2 after
/// BIP34, v<3 after BIP66 and v<4 after BIP65 with one reason string for all
/// three, so the highest active minimum decides (`i32::MIN` before any).
pub(crate) fn min_version(params: &Params, height: u32) -> i32 {
    version_minimums(params)
        .into_iter()
        .filter(|&(active_from, _)| height >= active_from)
        .map(|(_, min)| min)
        .max()
        .unwrap_or(i32::MIN)
}

/// The first height above `height` where [`min_version`] may change.
pub(crate) fn next_version_change(params: &Params, height: u32) -> Option<u32> {
    version_minimums(params).into_iter().map(|(from, _)| from).filter(|&from| from > height).min()
}

/// (activation height, minimum version) of BIP34, BIP66 and BIP65.
fn version_minimums(params: &Params) -> [(u32, i32); 3] {
    [(params.bip34_height, 2), (params.bip66_height, 3), (params.bip65_height, 4)]
}

/// Core's `ContextualCheckBlockHeader` for `header` on top of `prev`, with the
/// caller's clock `now` (seconds since the Unix epoch).
pub fn contextual_check<C: ChainContext>(
    params: &Params,
    ctx: &C,
    prev: C::Block,
    header: &BlockHeader,
    now: i64,
) -> Result<(), HeaderError> {
    let height = ctx.height(prev) + 1;
    let time = header.time();

    if let Some(expected) = next_work_required(params, ctx, prev, time) {
        if header.bits() != expected {
            return Err(HeaderError::BadDiffBits { expected, found: header.bits() });
        }
    }

    if let Err(mtp) = ctx.check_median_time(prev, time) {
        return Err(HeaderError::TimeTooOld { time, median_time_past: mtp });
    }

    if params.enforce_bip94
        && is_retarget_height(height, params.difficulty_adjustment_interval())
        && i64::from(time) < i64::from(ctx.time(prev)) - MAX_TIMEWARP
    {
        return Err(HeaderError::TimeTimewarpAttack { time, prev_time: ctx.time(prev) });
    }

    let max_time = now.saturating_add(MAX_FUTURE_BLOCK_TIME);
    if i64::from(time) > max_time {
        return Err(HeaderError::TimeTooNew { time, max_time });
    }

    let min_version = min_version(params, height);
    if header.version() < min_version {
        return Err(HeaderError::BadVersion { version: header.version(), min_version });
    }
    Ok(())
}
