//! Targets, proof of work and chainwork, as Bitcoin Core's src/pow.cpp
//! (`DeriveTarget`, `CheckProofOfWorkImpl`) and src/chain.cpp (`GetBlockProof`).

use core::fmt;

use super::{CompactTarget, U256};
use crate::wire::BlockHash;

/// Why an `nBits` value or a hash fails Core's `CheckProofOfWork`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PowError {
    /// The compact target has its sign bit set.
    Negative(CompactTarget),
    /// The compact target does not fit in 256 bits.
    Overflow(CompactTarget),
    /// The compact target decodes to zero.
    Zero(CompactTarget),
    /// The target is easier than the network's proof-of-work limit.
    AboveLimit {
        /// The header's `nBits`.
        bits: CompactTarget,
        /// The network's limit.
        limit: U256,
    },
    /// The block hash, read as a number, is above the target (the hash itself
    /// is known to the caller).
    HashAboveTarget {
        /// The target it had to meet.
        target: U256,
    },
}

impl fmt::Display for PowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PowError::Negative(b) => write!(f, "nbits {b:x} is negative"),
            PowError::Overflow(b) => write!(f, "nbits {b:x} overflows 256 bits"),
            PowError::Zero(b) => write!(f, "nbits {b:x} is a zero target"),
            PowError::AboveLimit { bits, limit } => {
                write!(f, "nbits {bits:x} is above the proof-of-work limit {limit:x}")
            }
            PowError::HashAboveTarget { target } => write!(f, "hash is above target {target:x}"),
        }
    }
}

impl std::error::Error for PowError {}

/// Core's `DeriveTarget`: the target of `bits`, or why it is not a valid one
/// (negative, zero, overflowing, or above `pow_limit`).
pub fn derive_target(bits: CompactTarget, pow_limit: &U256) -> Result<U256, PowError> {
    let e = bits.expand();
    if e.negative {
        return Err(PowError::Negative(bits));
    }
    // Core tests the four conditions in one expression; an overflowing value
    // may also have wrapped to zero, and "overflow" is the better name for it.
    if e.overflow {
        return Err(PowError::Overflow(bits));
    }
    if e.target.is_zero() {
        return Err(PowError::Zero(bits));
    }
    if e.target > *pow_limit {
        return Err(PowError::AboveLimit { bits, limit: *pow_limit });
    }
    Ok(e.target)
}

/// Core's `CheckProofOfWork(hash, nBits, params)`: a valid target, and the
/// hash, read as a little-endian number, at or below it.
///
/// Under `cfg(fuzzing)` the hash comparison is replaced, as Core's
/// `EnableFuzzDeterminism` does, by "the top bit of the hash is clear", so a
/// fuzzer reaches the contextual rules without mining.
pub fn check_proof_of_work(
    hash: &BlockHash,
    bits: CompactTarget,
    pow_limit: &U256,
) -> Result<(), PowError> {
    #[cfg(fuzzing)]
    {
        let _ = pow_limit;
        let target = bits.expand().target;
        if meets_target(hash, &target) {
            return Ok(());
        }
        return Err(PowError::HashAboveTarget { target });
    }
    #[cfg(not(fuzzing))]
    {
        let target = derive_target(bits, pow_limit)?;
        if !meets_target(hash, &target) {
            return Err(PowError::HashAboveTarget { target });
        }
        Ok(())
    }
}

/// The hash comparison of [`check_proof_of_work`] against a target already
/// derived: the hash, read as a little-endian number, at or below it. Under
/// `cfg(fuzzing)`, "the top bit of the hash is clear" whatever the target.
#[inline]
pub(crate) fn meets_target(hash: &BlockHash, target: &U256) -> bool {
    #[cfg(fuzzing)]
    {
        let _ = target;
        hash.0[31] & 0x80 == 0
    }
    #[cfg(not(fuzzing))]
    {
        U256::from_le_bytes(&hash.0) <= *target
    }
}

/// Core's `GetBlockProof`: the expected number of hashes to meet the target of
/// `bits`, 2^256 / (target + 1), computed as `~target / (target + 1) + 1`.
/// Zero for a negative, overflowing or zero target.
pub fn work_from_bits(bits: CompactTarget) -> U256 {
    let e = bits.expand();
    if e.negative || e.overflow || e.target.is_zero() {
        return U256::ZERO;
    }
    work_from_target(&e.target)
}

/// 2^256 / (target + 1) for a non-zero target.
pub fn work_from_target(target: &U256) -> U256 {
    match target.not().checked_div(&target.wrapping_add(&U256::ONE)) {
        Some(q) => q.wrapping_add(&U256::ONE),
        // target + 1 wrapped to zero: target is 2^256 - 1, so the work is 1.
        None => U256::ONE,
    }
}
