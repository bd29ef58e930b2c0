//! CompactSize, Bitcoin's variable-length integer (src/serialize.h
//! `ReadCompactSize` / `WriteCompactSize`).
//!
//! | value              | encoding            |
//! |--------------------|---------------------|
//! | 0..=0xfc           | 1 byte              |
//! | 0xfd..=0xffff      | 0xfd + u16 LE       |
//! | 0x10000..=u32::MAX | 0xfe + u32 LE       |
//! | larger             | 0xff + u64 LE       |
//!
//! Core rejects an encoding longer than needed ("non-canonical
//! ReadCompactSize()") and, where it range-checks, any value above
//! [`MAX_SIZE`]; so does this module.

use crate::wire::PayloadError;

/// The largest CompactSize Core accepts where it range-checks
/// (src/serialize.h `MAX_SIZE = 0x02000000`).
pub const MAX_SIZE: u64 = 0x0200_0000;

/// Decodes a CompactSize from the front of `buf`, returning the value and the
/// number of bytes it used. `range_check` applies Core's [`MAX_SIZE`] limit
/// (every length and count does; addrv2's service bits do not).
pub fn read(
    buf: &[u8],
    field: &'static str,
    range_check: bool,
) -> Result<(u64, usize), PayloadError> {
    let first = *buf.first().ok_or(PayloadError::Truncated { field, needed: 1, available: 0 })?;
    let (value, used, min) = match first {
        0..=0xfc => return Ok((u64::from(first), 1)),
        0xfd => (le(buf, 3, field)?, 3, 0xfd),
        0xfe => (le(buf, 5, field)?, 5, 0x1_0000),
        0xff => (le(buf, 9, field)?, 9, 0x1_0000_0000),
    };
    if value < min {
        return Err(PayloadError::NonCanonicalCompactSize { value, encoded_len: used });
    }
    if range_check && value > MAX_SIZE {
        return Err(PayloadError::CompactSizeTooLarge { value });
    }
    Ok((value, used))
}

fn le(buf: &[u8], len: usize, field: &'static str) -> Result<u64, PayloadError> {
    let b = buf.get(1..len).ok_or(PayloadError::Truncated {
        field,
        needed: len,
        available: buf.len(),
    })?;
    let mut out = [0u8; 8];
    out[..b.len()].copy_from_slice(b);
    Ok(u64::from_le_bytes(out))
}

/// The number of bytes [`write()`] uses for `value`.
pub const fn len(value: u64) -> usize {
    match value {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Appends the canonical encoding of `value` to `out`.
pub fn write(out: &mut Vec<u8>, value: u64) {
    let bytes = value.to_le_bytes();
    match len(value) {
        1 => out.push(bytes[0]),
        3 => {
            out.push(0xfd);
            out.extend_from_slice(&bytes[..2]);
        }
        5 => {
            out.push(0xfe);
            out.extend_from_slice(&bytes[..4]);
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_round_trip() {
        for v in
            [0u64, 0xfc, 0xfd, 0xffff, 0x1_0000, MAX_SIZE, 0xffff_ffff, 0x1_0000_0000, u64::MAX]
        {
            let mut out = Vec::new();
            write(&mut out, v);
            assert_eq!(out.len(), len(v));
            assert_eq!(read(&out, "x", false), Ok((v, out.len())));
            if v > MAX_SIZE {
                assert_eq!(
                    read(&out, "x", true),
                    Err(PayloadError::CompactSizeTooLarge { value: v })
                );
            }
        }
    }

    #[test]
    fn non_canonical_and_truncated_are_errors() {
        assert_eq!(
            read(&[0xfd, 0xfc, 0x00], "x", true),
            Err(PayloadError::NonCanonicalCompactSize { value: 0xfc, encoded_len: 3 })
        );
        assert_eq!(
            read(&[0xfe, 0xff, 0xff, 0, 0], "x", true),
            Err(PayloadError::NonCanonicalCompactSize { value: 0xffff, encoded_len: 5 })
        );
        assert_eq!(read(&[0xff, 0, 0, 0, 0, 1, 0, 0, 0], "x", false), Ok((0x1_0000_0000, 9)));
        assert_eq!(
            read(&[0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], "x", false),
            Err(PayloadError::NonCanonicalCompactSize { value: 0xffff_ffff, encoded_len: 9 })
        );
        assert_eq!(
            read(&[0xfd, 0x01], "count", true),
            Err(PayloadError::Truncated { field: "count", needed: 3, available: 2 })
        );
        assert!(matches!(read(&[], "count", true), Err(PayloadError::Truncated { .. })));
    }
}
