//! An unsigned 256-bit integer with exactly the arithmetic Bitcoin Core's
//! `arith_uint256` (src/arith_uint256.{h,cpp}) uses for targets and work.
//!
//! Multiplication by a 32-bit word wraps modulo 2^256 like Core's
//! `operator*=(uint32_t)`; division truncates like Core's `operator/=`;
//! shifts by 256 bits or more give zero, as in Core.

use core::cmp::Ordering;
use core::fmt;

/// An unsigned 256-bit integer: four 64-bit limbs, least significant first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U256(pub [u64; 4]);

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256([0; 4]);
    /// One.
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    /// 2^256 - 1.
    pub const MAX: U256 = U256([u64::MAX; 4]);

    /// A small value.
    pub const fn from_u64(v: u64) -> U256 {
        U256([v, 0, 0, 0])
    }

    /// Reads 32 bytes as a little-endian number (Core's `UintToArith256` of a
    /// `uint256`, so a block hash in wire order becomes the number it is compared as).
    pub fn from_le_bytes(b: &[u8; 32]) -> U256 {
        let mut l = [0u64; 4];
        for (i, limb) in l.iter_mut().enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i * 8..i * 8 + 8]);
            *limb = u64::from_le_bytes(w);
        }
        U256(l)
    }

    /// Reads 32 bytes as a big-endian number (how targets are usually written).
    pub fn from_be_bytes(b: &[u8; 32]) -> U256 {
        let mut le = *b;
        le.reverse();
        U256::from_le_bytes(&le)
    }

    /// The number as 32 big-endian bytes.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..4 {
            out[(3 - i) * 8..(3 - i) * 8 + 8].copy_from_slice(&self.0[i].to_be_bytes());
        }
        out
    }

    /// The number as 64 lower-case hex digits, big-endian (Core's `GetHex`).
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.to_be_bytes() {
            use fmt::Write as _;
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Parses up to 64 hex digits, big-endian. `None` for anything else.
    pub fn from_hex(s: &str) -> Option<U256> {
        if s.is_empty() || s.len() > 64 {
            return None;
        }
        let mut v = U256::ZERO;
        for c in s.chars() {
            let d = c.to_digit(16)?;
            v = v.shl(4);
            v.0[0] |= u64::from(d);
        }
        Some(v)
    }

    /// The lowest 64 bits (Core's `GetLow64`).
    pub const fn low_u64(&self) -> u64 {
        self.0[0]
    }

    /// Whether the number is zero.
    pub const fn is_zero(&self) -> bool {
        self.0[0] == 0 && self.0[1] == 0 && self.0[2] == 0 && self.0[3] == 0
    }

    /// The position of the highest set bit plus one; 0 for zero (Core's `bits()`).
    pub const fn bits(&self) -> u32 {
        let mut i = 4;
        while i > 0 {
            i -= 1;
            if self.0[i] != 0 {
                return 64 * i as u32 + 64 - self.0[i].leading_zeros();
            }
        }
        0
    }

    /// `self << shift`; zero when `shift >= 256`.
    pub const fn shl(&self, shift: u32) -> U256 {
        let mut out = [0u64; 4];
        if shift >= 256 {
            return U256(out);
        }
        let limbs = (shift / 64) as usize;
        let bits = shift % 64;
        let mut i = 3;
        loop {
            if i >= limbs {
                let src = i - limbs;
                let mut v = self.0[src] << bits;
                if bits > 0 && src > 0 {
                    v |= self.0[src - 1] >> (64 - bits);
                }
                out[i] = v;
            }
            if i == 0 {
                break;
            }
            i -= 1;
        }
        U256(out)
    }

    /// `self >> shift`; zero when `shift >= 256`.
    pub const fn shr(&self, shift: u32) -> U256 {
        let mut out = [0u64; 4];
        if shift >= 256 {
            return U256(out);
        }
        let limbs = (shift / 64) as usize;
        let bits = shift % 64;
        let mut i = 0;
        while i + limbs < 4 {
            let src = i + limbs;
            let mut v = self.0[src] >> bits;
            if bits > 0 && src + 1 < 4 {
                v |= self.0[src + 1] << (64 - bits);
            }
            out[i] = v;
            i += 1;
        }
        U256(out)
    }

    /// Bitwise not (Core's `operator~`).
    pub const fn not(&self) -> U256 {
        U256([!self.0[0], !self.0[1], !self.0[2], !self.0[3]])
    }

    /// `self + rhs` modulo 2^256, and whether it wrapped.
    pub const fn overflowing_add(&self, rhs: &U256) -> (U256, bool) {
        let mut out = [0u64; 4];
        let mut carry = false;
        let mut i = 0;
        while i < 4 {
            let (s1, c1) = self.0[i].overflowing_add(rhs.0[i]);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            out[i] = s2;
            carry = c1 || c2;
            i += 1;
        }
        (U256(out), carry)
    }

    /// `self + rhs` modulo 2^256 (Core's `operator+`).
    pub const fn wrapping_add(&self, rhs: &U256) -> U256 {
        self.overflowing_add(rhs).0
    }

    /// `self + rhs`, or [`U256::MAX`] if it would not fit.
    pub const fn saturating_add(&self, rhs: &U256) -> U256 {
        match self.overflowing_add(rhs) {
            (v, false) => v,
            (_, true) => U256::MAX,
        }
    }

    /// `self - rhs` modulo 2^256 (Core's `operator-`).
    pub const fn wrapping_sub(&self, rhs: &U256) -> U256 {
        let mut out = [0u64; 4];
        let mut borrow = false;
        let mut i = 0;
        while i < 4 {
            let (d1, b1) = self.0[i].overflowing_sub(rhs.0[i]);
            let (d2, b2) = d1.overflowing_sub(borrow as u64);
            out[i] = d2;
            borrow = b1 || b2;
            i += 1;
        }
        U256(out)
    }

    /// `self * rhs` modulo 2^256 (Core's `operator*=(uint32_t)`, which wraps).
    pub const fn wrapping_mul_u32(&self, rhs: u32) -> U256 {
        let mut out = [0u64; 4];
        let mut carry: u128 = 0;
        let mut i = 0;
        while i < 4 {
            let p = self.0[i] as u128 * rhs as u128 + carry;
            out[i] = p as u64;
            carry = p >> 64;
            i += 1;
        }
        U256(out)
    }

    /// `self / rhs` truncated, as Core's `operator/=`; `None` when `rhs` is zero
    /// (where Core throws `uint_error`).
    pub fn checked_div(&self, rhs: &U256) -> Option<U256> {
        if rhs.is_zero() {
            return None;
        }
        let num_bits = self.bits();
        let div_bits = rhs.bits();
        if div_bits > num_bits {
            return Some(U256::ZERO);
        }
        // Schoolbook binary long division, the same shift-and-subtract Core does.
        let mut num = *self;
        let mut shift = num_bits - div_bits;
        let mut div = rhs.shl(shift);
        let mut q = [0u64; 4];
        loop {
            if num >= div {
                num = num.wrapping_sub(&div);
                q[(shift / 64) as usize] |= 1 << (shift % 64);
            }
            if shift == 0 {
                break;
            }
            div = div.shr(1);
            shift -= 1;
        }
        Some(U256(q))
    }

    /// `self / rhs` truncated, for a non-zero 64-bit divisor (same result as
    /// [`U256::checked_div`], faster). `None` when `rhs` is zero.
    pub const fn checked_div_u64(&self, rhs: u64) -> Option<U256> {
        if rhs == 0 {
            return None;
        }
        let mut out = [0u64; 4];
        let mut rem: u128 = 0;
        let mut i = 4;
        while i > 0 {
            i -= 1;
            let cur = (rem << 64) | self.0[i] as u128;
            out[i] = (cur / rhs as u128) as u64;
            rem = cur % rhs as u128;
        }
        Some(U256(out))
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &U256) -> Ordering {
        for i in (0..4).rev() {
            match self.0[i].cmp(&other.0[i]) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &U256) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U256(0x{})", self.to_hex())
    }
}

impl fmt::LowerHex for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn to_u128(v: &U256) -> Option<u128> {
        (v.0[2] == 0 && v.0[3] == 0).then(|| v.0[0] as u128 | (v.0[1] as u128) << 64)
    }

    /// Wrapping 256 x 256 multiply by shift-and-add, for checking division.
    fn mul(a: &U256, b: &U256) -> U256 {
        let mut acc = U256::ZERO;
        for i in 0..256 {
            if b.shr(i).0[0] & 1 == 1 {
                acc = acc.wrapping_add(&a.shl(i));
            }
        }
        acc
    }

    fn from_u128(v: u128) -> U256 {
        U256([v as u64, (v >> 64) as u64, 0, 0])
    }

    #[test]
    fn hex_and_bytes_round_trip() {
        let s = "00000000ffff0000000000000000000000000000000000000000000000000001";
        let v = U256::from_hex(s).unwrap();
        assert_eq!(v.to_hex(), s);
        assert_eq!(U256::from_be_bytes(&v.to_be_bytes()), v);
        assert_eq!(v.bits(), 224);
        assert_eq!(U256::ZERO.bits(), 0);
        assert_eq!(U256::from_hex("g"), None);
        assert_eq!(v.shl(256), U256::ZERO);
        assert_eq!(v.shr(300), U256::ZERO);
    }

    #[test]
    fn division_matches_core_examples() {
        // 2^256 / (target + 1) for the mainnet genesis target: 0x100010001 (Core's
        // chainwork of block 0 is 0x100010001).
        let t = U256::from_hex("ffff0000000000000000000000000000000000000000000000000000").unwrap();
        let work =
            t.not().checked_div(&t.wrapping_add(&U256::ONE)).unwrap().wrapping_add(&U256::ONE);
        assert_eq!(work, U256::from_u64(0x1_0001_0001));
        assert_eq!(U256::ONE.checked_div(&U256::ZERO), None);
        assert_eq!(U256::ONE.checked_div_u64(0), None);
    }

    proptest! {
        #[test]
        fn agrees_with_u128(a in any::<u128>(), b in any::<u128>(), s in 0u32..300, m in any::<u32>()) {
            let (x, y) = (from_u128(a), from_u128(b));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            if let Some(q) = a.checked_div(b) {
                prop_assert_eq!(to_u128(&x.checked_div(&y).unwrap()), Some(q));
                if let Ok(b64) = u64::try_from(b) {
                    prop_assert_eq!(x.checked_div_u64(b64), x.checked_div(&y));
                }
            }
            let sum = x.wrapping_add(&y);
            prop_assert_eq!(sum.wrapping_sub(&y), x);
            if s < 128 {
                prop_assert_eq!(x.shl(s).shr(s), x);
                prop_assert_eq!(to_u128(&x.shr(s)), Some(a >> s));
            }
            let p = x.wrapping_mul_u32(m);
            prop_assert_eq!(p.checked_div_u64(u64::from(m.max(1))).unwrap(), if m == 0 { U256::ZERO } else { x });
        }

        #[test]
        fn full_width_division_identity(l in any::<[u64; 4]>(), r in any::<[u64; 4]>(), sh in 0u32..256) {
            let a = U256(l);
            let b = U256(r).shr(sh); // divisors of every size
            if !b.is_zero() {
                let q = a.checked_div(&b).unwrap();
                // a == q*b + rem with rem < b; q*b cannot wrap because q*b <= a.
                let qb = mul(&q, &b);
                prop_assert!(qb <= a);
                prop_assert!(a.wrapping_sub(&qb) < b);
            }
        }
    }
}
