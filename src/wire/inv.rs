//! Inventory entries of `inv`, `getdata` and `notfound` (src/protocol.h
//! `CInv`): a u32 type and a 32-byte hash, 36 bytes in all.

use core::fmt;

use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::wire::BlockHash;

/// An inventory type (src/protocol.h `GetDataMsg`). Unknown values are kept:
/// Core ignores entries it does not know rather than rejecting the message.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvType(pub u32);

impl InvType {
    /// `UNDEFINED` (0).
    pub const ERROR: InvType = InvType(0);
    /// `MSG_TX`.
    pub const TX: InvType = InvType(1);
    /// `MSG_BLOCK`.
    pub const BLOCK: InvType = InvType(2);
    /// `MSG_FILTERED_BLOCK` (BIP37).
    pub const FILTERED_BLOCK: InvType = InvType(3);
    /// `MSG_CMPCT_BLOCK` (BIP152).
    pub const CMPCT_BLOCK: InvType = InvType(4);
    /// `MSG_WTX` (BIP339).
    pub const WTX: InvType = InvType(5);
    /// `MSG_WITNESS_FLAG` (1 << 30, BIP144).
    pub const WITNESS_FLAG: u32 = 1 << 30;
    /// `MSG_WITNESS_TX`.
    pub const WITNESS_TX: InvType = InvType(Self::WITNESS_FLAG | 1);
    /// `MSG_WITNESS_BLOCK`.
    pub const WITNESS_BLOCK: InvType = InvType(Self::WITNESS_FLAG | 2);
    /// `MSG_FILTERED_WITNESS_BLOCK`.
    pub const FILTERED_WITNESS_BLOCK: InvType = InvType(Self::WITNESS_FLAG | 3);
}

impl fmt::Debug for InvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InvType({})", self.0)
    }
}

/// One inventory entry, laid out as on the wire.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct InvEntry {
    /// The type, u32 LE.
    pub inv_type: U32,
    /// The hash (txid, wtxid or block hash), wire order; `BlockHash` is used
    /// for its reversed-hex display.
    pub hash: BlockHash,
}

const _: () = assert!(core::mem::size_of::<InvEntry>() == 36);

impl InvEntry {
    /// An entry.
    pub fn new(inv_type: InvType, hash: BlockHash) -> InvEntry {
        InvEntry { inv_type: U32::new(inv_type.0), hash }
    }

    /// The type.
    pub fn inv_type(&self) -> InvType {
        InvType(self.inv_type.get())
    }
}

impl fmt::Debug for InvEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvEntry")
            .field("inv_type", &self.inv_type())
            .field("hash", &self.hash)
            .finish()
    }
}
