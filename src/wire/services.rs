//! Service bits advertised in `version`, `addr` and `addrv2`
//! (src/protocol.h `ServiceFlags`).

use core::fmt;
use core::ops::{BitOr, BitOrAssign};

/// A set of service bits. Unknown bits are kept, never rejected.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ServiceFlags(pub u64);

impl ServiceFlags {
    /// No services.
    pub const NONE: ServiceFlags = ServiceFlags(0);
    /// `NODE_NETWORK` (bit 0): serves the full block chain.
    pub const NETWORK: ServiceFlags = ServiceFlags(1 << 0);
    /// `NODE_GETUTXO` (bit 1, BIP64).
    pub const GETUTXO: ServiceFlags = ServiceFlags(1 << 1);
    /// `NODE_BLOOM` (bit 2, BIP111).
    pub const BLOOM: ServiceFlags = ServiceFlags(1 << 2);
    /// `NODE_WITNESS` (bit 3, BIP144).
    pub const WITNESS: ServiceFlags = ServiceFlags(1 << 3);
    /// `NODE_COMPACT_FILTERS` (bit 6, BIP157).
    pub const COMPACT_FILTERS: ServiceFlags = ServiceFlags(1 << 6);
    /// `NODE_NETWORK_LIMITED` (bit 10, BIP159): serves the last 288 blocks.
    pub const NETWORK_LIMITED: ServiceFlags = ServiceFlags(1 << 10);
    /// `NODE_P2P_V2` (bit 11, BIP324).
    pub const P2P_V2: ServiceFlags = ServiceFlags(1 << 11);

    /// The raw bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether every bit of `other` is set here.
    pub const fn contains(self, other: ServiceFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for ServiceFlags {
    type Output = ServiceFlags;
    fn bitor(self, rhs: ServiceFlags) -> ServiceFlags {
        ServiceFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for ServiceFlags {
    fn bitor_assign(&mut self, rhs: ServiceFlags) {
        self.0 |= rhs.0;
    }
}

impl From<u64> for ServiceFlags {
    fn from(bits: u64) -> Self {
        ServiceFlags(bits)
    }
}

impl fmt::Debug for ServiceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceFlags({:#x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_and_or() {
        let s = ServiceFlags::NETWORK | ServiceFlags::WITNESS | ServiceFlags::NETWORK_LIMITED;
        assert_eq!(s.bits(), 0x409);
        assert!(s.contains(ServiceFlags::WITNESS | ServiceFlags::NETWORK));
        assert!(!s.contains(ServiceFlags::BLOOM));
        assert!(s.contains(ServiceFlags::NONE));
    }
}
