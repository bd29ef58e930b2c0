//! What the header tree remembers between consecutive headers so that the
//! common case of a rule costs a compare: the target and work of the last
//! `nBits` seen (shared with the chain window), and the median-time-past
//! window of the last entry added (the window reads its ring of times
//! instead). Only speed: every answer equals the rule's own
//! (`rules::check_header`, `work_from_bits`, `rules::median_time_past`).

use super::params::{Params, MEDIAN_TIME_SPAN};
use super::HeaderError;
use crate::pow::{derive_target, work_from_bits, CompactTarget, U256};
use crate::wire::BlockHash;

/// The target and the work of the last `nBits` seen: consecutive headers
/// nearly always share it (one retarget period on mainnet), and expanding it
/// is a 256-bit shift, its work a 256-bit division.
#[derive(Clone, Copy, Debug)]
pub(super) struct PowCache {
    /// The last valid `nBits` whose target was asked for, and that target.
    target: Option<(CompactTarget, U256)>,
    /// The last `nBits` whose work was asked for, and that work.
    work: (CompactTarget, U256),
}

impl PowCache {
    /// A cache knowing the work of `bits` (a root's: asked for first).
    pub(super) fn new(bits: CompactTarget) -> PowCache {
        PowCache { target: None, work: (bits, work_from_bits(bits)) }
    }

    /// The target of `bits`, or why it is not one (`derive_target`).
    #[inline]
    pub(super) fn target(
        &mut self,
        params: &Params,
        bits: CompactTarget,
    ) -> Result<U256, HeaderError> {
        match self.target {
            Some((b, t)) if b == bits => Ok(t),
            _ => {
                let t = derive_target(bits, &params.pow_limit).map_err(HeaderError::HighHash)?;
                self.target = Some((bits, t));
                Ok(t)
            }
        }
    }

    /// Core's `CheckBlockHeader` ([`super::rules::check_header`]) for a
    /// header with `bits` whose hash is `hash`.
    #[inline]
    pub(super) fn check(
        &mut self,
        params: &Params,
        hash: &BlockHash,
        bits: CompactTarget,
    ) -> Result<(), HeaderError> {
        #[cfg(not(fuzzing))]
        {
            use crate::pow::{meets_target, PowError};
            let target = self.target(params, bits)?;
            if !meets_target(hash, &target) {
                return Err(HeaderError::HighHash(PowError::HashAboveTarget { target }));
            }
            Ok(())
        }
        // Fuzzing replaces the hash comparison (see `check_proof_of_work`)
        // and takes any target.
        #[cfg(fuzzing)]
        crate::pow::check_proof_of_work(hash, bits, &params.pow_limit)
            .map_err(HeaderError::HighHash)
    }

    /// Core's `GetBlockProof` of `bits` ([`work_from_bits`]).
    #[inline]
    pub(super) fn work(&mut self, bits: CompactTarget) -> U256 {
        if self.work.0 != bits {
            self.work = (bits, work_from_bits(bits));
        }
        self.work.1
    }
}

/// The times of a block and its 10 ancestors, for Core's `time-too-old`
/// rule on a child of that block.
///
/// A ring whose oldest slot is `oldest`: shifting a small array in place
/// stalls store-to-load forwarding (measured: half of the tree's `insert`).
/// `max` is at least the largest time in the ring (the largest of the
/// block's ancestry since the window was built): a child whose time is above
/// it is above all 11 and so after their median, which one compare answers.
/// The ring itself is read only when that fails: a vector load of it right
/// after the 4-byte write of the newest time cannot take the value from the
/// store buffer and waits for the write to land (a profile put 16% of the
/// tree's time on that load; answering from `max` first: 23.3 -> 22.6 ns a
/// header for the tree alone on the 40,000 mainnet headers).
#[derive(Clone, Copy, Debug)]
pub(super) struct TimeWindow {
    /// The tree entry whose window this is.
    pub(super) block: u32,
    times: [u32; MEDIAN_TIME_SPAN],
    oldest: u8,
    max: u32,
}

impl TimeWindow {
    /// The window of `block` from its times and its 10 ancestors', oldest first.
    pub(super) fn new(block: u32, times: [u32; MEDIAN_TIME_SPAN]) -> TimeWindow {
        let max = times.iter().copied().max().unwrap_or(0);
        TimeWindow { block, times, oldest: 0, max }
    }

    /// Becomes the window of a child `block` with time `time`.
    #[inline]
    pub(super) fn push(&mut self, block: u32, time: u32) {
        self.times[usize::from(self.oldest)] = time;
        // A compare, not `%`: a remainder by 11 is a dozen instructions.
        self.oldest =
            if usize::from(self.oldest) + 1 == MEDIAN_TIME_SPAN { 0 } else { self.oldest + 1 };
        self.max = self.max.max(time);
        self.block = block;
    }

    /// Whether `time` is after the median of the window: exactly when at
    /// least 6 of the 11 times are below it (the 6th smallest is the median).
    #[inline]
    pub(super) fn after_median(&self, time: u32) -> bool {
        time > self.max || self.times.iter().filter(|&&t| t < time).count() > MEDIAN_TIME_SPAN / 2
    }

    /// The median of the window, as Core's `GetMedianTimePast`.
    pub(super) fn median(&self) -> i64 {
        // In chain order, so the sort has little to do.
        let mut t: [i64; MEDIAN_TIME_SPAN] = core::array::from_fn(|i| {
            i64::from(self.times[(usize::from(self.oldest) + i) % MEDIAN_TIME_SPAN])
        });
        super::rules::median_of(&mut t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_window_answers_as_the_median_does() {
        // Every rotation of a window with repeated and out-of-order times.
        let base = [5u32, 3, 9, 9, 1, 7, 7, 2, 8, 6, 4];
        let mut w = TimeWindow::new(0, base);
        let mut times = base.to_vec();
        for step in 0..30u32 {
            let mut sorted = times.clone();
            sorted.sort_unstable();
            let median = sorted[MEDIAN_TIME_SPAN / 2];
            assert_eq!(w.median(), i64::from(median), "step {step}");
            for t in 0..12 {
                assert_eq!(w.after_median(t), t > median, "step {step}, time {t}");
            }
            let next = (step * 7 + 3) % 11;
            w.push(step + 1, next);
            times.remove(0);
            times.push(next);
        }
    }
}
