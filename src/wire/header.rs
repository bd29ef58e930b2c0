//! The 80-byte block header, as a zero-copy view.
//!
//! Layout (src/primitives/block.h `CBlockHeader::SERIALIZE_METHODS`):
//!
//! | offset | size | field        |
//! |--------|------|--------------|
//! | 0      | 4    | version (i32 LE) |
//! | 4      | 32   | prev block hash  |
//! | 36     | 32   | merkle root      |
//! | 68     | 4    | time (u32 LE)    |
//! | 72     | 4    | bits (compact target, u32 LE) |
//! | 76     | 4    | nonce (u32 LE)   |

use zerocopy::little_endian::{I32, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::pow::CompactTarget;
use crate::wire::BlockHash;

/// Size of a serialized block header.
pub const HEADER_SIZE: usize = 80;

/// A block header, laid out exactly as on the wire.
///
/// Every bit pattern is a valid `BlockHeader` and the struct has alignment 1,
/// so a `&BlockHeader` can be taken from any 80 bytes of a received buffer with
/// [`BlockHeader::ref_from_bytes`] (or `ref_from_prefix`) without copying.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct BlockHeader {
    /// Block version (signed, as in Core).
    pub version: I32,
    /// Hash of the previous block, wire order.
    pub prev_blockhash: BlockHash,
    /// Merkle root of the block's transactions, wire order.
    pub merkle_root: [u8; 32],
    /// Block time, seconds since the Unix epoch.
    pub time: U32,
    /// Compact encoding of the proof-of-work target (`nBits`).
    pub bits: U32,
    /// Nonce.
    pub nonce: U32,
}

const _: () = assert!(core::mem::size_of::<BlockHeader>() == HEADER_SIZE);

impl BlockHeader {
    /// Views 80 bytes as a header. `None` unless `bytes.len() == 80`.
    pub fn view(bytes: &[u8]) -> Option<&BlockHeader> {
        BlockHeader::ref_from_bytes(bytes).ok()
    }

    /// Reads a header from a 80-byte array (a copy: headers are small).
    pub fn from_array(bytes: &[u8; HEADER_SIZE]) -> BlockHeader {
        BlockHeader::read_from_bytes(bytes).expect("80 bytes is exactly one header")
    }

    /// The header's 80 bytes.
    pub fn bytes(&self) -> &[u8; HEADER_SIZE] {
        // `IntoBytes` gives a slice of exactly size_of::<Self>() == 80 bytes.
        self.as_bytes().try_into().expect("header is 80 bytes")
    }

    /// `nVersion`.
    pub fn version(&self) -> i32 {
        self.version.get()
    }

    /// `hashPrevBlock`.
    pub fn prev_hash(&self) -> BlockHash {
        self.prev_blockhash
    }

    /// `nTime`.
    pub fn time(&self) -> u32 {
        self.time.get()
    }

    /// `nBits`.
    pub fn bits(&self) -> CompactTarget {
        CompactTarget(self.bits.get())
    }

    /// `nNonce`.
    pub fn nonce(&self) -> u32 {
        self.nonce.get()
    }

    /// sha256d of the 80 bytes: the block hash.
    pub fn block_hash(&self) -> BlockHash {
        crate::pow::block_hash(self)
    }
}

impl core::fmt::Debug for BlockHeader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BlockHeader")
            .field("version", &self.version())
            .field("prev_blockhash", &self.prev_blockhash)
            .field("time", &self.time())
            .field("bits", &format_args!("{:08x}", self.bits.get()))
            .field("nonce", &self.nonce())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mainnet genesis header (src/kernel/chainparams.cpp).
    const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

    #[test]
    fn genesis_fields_and_hash() {
        let bytes = hex::decode(GENESIS).unwrap();
        let h = BlockHeader::view(&bytes).unwrap();
        assert_eq!(h.version(), 1);
        assert_eq!(h.prev_hash(), BlockHash::ZERO);
        assert_eq!(h.time(), 1231006505);
        assert_eq!(h.bits(), CompactTarget(0x1d00ffff));
        assert_eq!(h.nonce(), 2083236893);
        assert_eq!(
            h.block_hash().to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert_eq!(&h.bytes()[..], &bytes[..]);
        assert!(BlockHeader::view(&bytes[..79]).is_none());
    }
}
