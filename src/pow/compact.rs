//! The compact target encoding (`nBits`).

use super::U256;

/// A proof-of-work target in Bitcoin's compact form (`nBits`): a base-256
/// floating point number with a one-byte exponent, a sign bit and a 23-bit
/// mantissa (src/arith_uint256.h `SetCompact` / `GetCompact`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompactTarget(pub u32);

/// What Core's `arith_uint256::SetCompact` yields for an `nBits` value: the
/// 256-bit number and its two flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpandedCompact {
    /// The 256-bit value (bits shifted out past 2^256 are lost, as in Core).
    pub target: U256,
    /// `fNegative`: the sign bit is set and the mantissa is non-zero.
    pub negative: bool,
    /// `fOverflow`: the value does not fit in 256 bits.
    pub overflow: bool,
}

impl CompactTarget {
    /// The raw `nBits` value.
    pub const fn to_consensus(self) -> u32 {
        self.0
    }

    /// Decodes as Core's `SetCompact(nCompact, &fNegative, &fOverflow)`.
    pub const fn expand(self) -> ExpandedCompact {
        let n = self.0;
        let size = n >> 24;
        let mut word = n & 0x007f_ffff;
        let target = if size <= 3 {
            word >>= 8 * (3 - size);
            U256::from_u64(word as u64)
        } else {
            // `word << shift` directly: the 23-bit word lands in one limb or
            // straddles two; a shift of 256 bits or more leaves zero (as Core).
            let shift = 8 * (size - 3);
            let mut l = [0u64; 4];
            if shift < 256 {
                let limb = (shift / 64) as usize;
                let off = shift % 64;
                l[limb] = (word as u64) << off;
                if off > 64 - 23 && limb + 1 < 4 {
                    l[limb + 1] = (word as u64) >> (64 - off);
                }
            }
            U256(l)
        };
        let negative = word != 0 && (n & 0x0080_0000) != 0;
        let overflow =
            word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
        ExpandedCompact { target, negative, overflow }
    }

    /// Encodes as Core's `GetCompact(fNegative)`: the nearest compact form at or
    /// below `target` (low bits are truncated).
    pub const fn from_target(target: &U256, negative: bool) -> CompactTarget {
        let mut size = target.bits().div_ceil(8);
        let mut compact: u32 = if size <= 3 {
            (target.low_u64() << (8 * (3 - size))) as u32
        } else {
            target.shr(8 * (size - 3)).low_u64() as u32
        };
        // The 0x00800000 bit is the sign: if the mantissa would set it, divide
        // by 256 and bump the exponent.
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        compact |= size << 24;
        if negative && compact & 0x007f_ffff != 0 {
            compact |= 0x0080_0000;
        }
        CompactTarget(compact)
    }
}

impl core::fmt::LowerHex for CompactTarget {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_agrees_with_a_generic_shift_for_every_exponent() {
        for size in 0..=255u32 {
            for word in [0x1u32, 0xff, 0x7fffff, 0x123456, 0x800000, 0x00ffff] {
                let n = size << 24 | word;
                let e = CompactTarget(n).expand();
                let w = word & 0x7fffff;
                let want = if size <= 3 {
                    U256::from_u64(u64::from(w >> (8 * (3 - size))))
                } else {
                    U256::from_u64(u64::from(w)).shl(8 * (size - 3))
                };
                assert_eq!(e.target, want, "{n:08x}");
            }
        }
    }

    #[test]
    fn mainnet_pow_limit_round_trips() {
        let e = CompactTarget(0x1d00ffff).expand();
        assert_eq!(e.target.to_hex(), format!("00000000ffff{}", "0".repeat(52)));
        assert!(!e.negative && !e.overflow);
        assert_eq!(CompactTarget::from_target(&e.target, false), CompactTarget(0x1d00ffff));
    }
}
