//! The compact target encoding (`nBits`).

/// A proof-of-work target in Bitcoin's compact form (`nBits`): a base-256
/// floating point number with a one-byte exponent, a sign bit and a 23-bit
/// mantissa (src/arith_uint256.h `SetCompact` / `GetCompact`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompactTarget(pub u32);

impl CompactTarget {
    /// The raw `nBits` value.
    pub const fn to_consensus(self) -> u32 {
        self.0
    }
}
