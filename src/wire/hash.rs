//! 32-byte hashes as they travel on the wire.

use core::fmt;
use core::str::FromStr;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// A block hash: sha256d of the 80-byte header, in wire (internal) byte order.
///
/// `Display` and `FromStr` use the reversed hex that Bitcoin Core's RPC shows
/// (`000000000019d6689c...` for the mainnet genesis).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(transparent)]
pub struct BlockHash(pub [u8; 32]);

impl BlockHash {
    /// All zeroes: the "no block" hash (genesis prev hash, getheaders stop hash).
    pub const ZERO: BlockHash = BlockHash([0; 32]);

    /// The hash bytes in wire order.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Writes the display form (byte-reversed lowercase hex) into `out`.
    pub fn to_display_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().rev() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockHash({self})")
    }
}

/// The error for a string that is not 64 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseHashError;

impl fmt::Display for ParseHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected 64 hex digits")
    }
}

impl std::error::Error for ParseHashError {}

impl FromStr for BlockHash {
    type Err = ParseHashError;

    /// Parses the display form (byte-reversed hex).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.as_bytes();
        if s.len() != 64 {
            return Err(ParseHashError);
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or(ParseHashError)?;
            let lo = hex_val(pair[1]).ok_or(ParseHashError)?;
            out[31 - i] = hi << 4 | lo;
        }
        Ok(BlockHash(out))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_reversed_hex() {
        let s = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
        let h: BlockHash = s.parse().unwrap();
        assert_eq!(h.0[31], 0);
        assert_eq!(h.0[0], 0x6f);
        assert_eq!(h.to_string(), s);
        assert!("00".parse::<BlockHash>().is_err());
    }
}
