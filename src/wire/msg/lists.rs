//! `inv` / `getdata` / `notfound` and `addr` / `addrv2`.
//!
//! Limits (Bitcoin Core): `MAX_INV_SZ` 50,000 entries (src/net_processing.cpp),
//! `MAX_ADDR_TO_SEND` 1,000 entries for addr and addrv2 (src/net.h). Core
//! reads the whole vector then checks its size and punishes the peer; here
//! the count is checked first, before touching the entries.
//!
//! addrv2 entries (BIP155): u32 time, services as a CompactSize (Core reads
//! it with `CompactSizeFormatter<false>`: canonical but not range-checked),
//! a network id byte, a CompactSize address length (at most 512,
//! `MAX_ADDRV2_SIZE`; for known networks exactly their size, else Core throws
//! "BIP155 ... address with length"), the address, a big-endian port.
//! Unknown network ids are accepted and their bytes kept (Core skips them).
//! Core accepts, then ignores, IPv4-mapped IPv6 and Tor-prefixed IPv6
//! addresses; rust-bitcoin rejects them: an intended difference.

use crate::wire::addr::bip155;
use crate::wire::compact;
use crate::wire::msg::{Encode, MAX_ADDR_TO_SEND, MAX_INV_SZ};
use crate::wire::reader::Reader;
use crate::wire::{AddrEntry, AddrV2Entry, Command, InvEntry, PayloadError, ServiceFlags};
use zerocopy::IntoBytes;

/// A decoded `inv`, `getdata` or `notfound` payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvView<'a> {
    entries: &'a [InvEntry],
}

impl<'a> InvView<'a> {
    /// Decodes an inventory list.
    pub fn decode(payload: &'a [u8]) -> Result<InvView<'a>, PayloadError> {
        let mut r = Reader::new(payload);
        let count = r.compact_size("inv count", true)?;
        if count > MAX_INV_SZ as u64 {
            return Err(PayloadError::TooMany { what: "inv", count, max: MAX_INV_SZ });
        }
        let entries = r.records::<InvEntry>(count as usize, "inv entries")?;
        r.finish()?;
        Ok(InvView { entries })
    }
    /// The entries, borrowed.
    pub fn entries(&self) -> &'a [InvEntry] {
        self.entries
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The entries in order.
    pub fn iter(&self) -> core::slice::Iter<'a, InvEntry> {
        self.entries.iter()
    }
}

fn inv_len(e: &[InvEntry]) -> usize {
    compact::len(e.len() as u64) + 36 * e.len()
}

fn inv_encode(e: &[InvEntry], out: &mut Vec<u8>) {
    compact::write(out, e.len() as u64);
    out.extend_from_slice(e.as_bytes());
}

macro_rules! inv_message {
    ($name:ident, $cmd:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name<'a>(pub &'a [InvEntry]);

        impl Encode for $name<'_> {
            fn command(&self) -> Command {
                Command::$cmd
            }
            fn payload_len(&self) -> usize {
                inv_len(self.0)
            }
            fn encode_payload(&self, out: &mut Vec<u8>) {
                inv_encode(self.0, out)
            }
        }
    };
}

inv_message!(Inv, INV, "An owned `inv` (at most 50,000 entries).");
inv_message!(GetData, GETDATA, "An owned `getdata` (at most 50,000 entries).");
inv_message!(NotFound, NOTFOUND, "An owned `notfound` (at most 50,000 entries).");

/// A decoded `addr` payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrView<'a> {
    entries: &'a [AddrEntry],
}

impl<'a> AddrView<'a> {
    /// Decodes an `addr` payload.
    pub fn decode(payload: &'a [u8]) -> Result<AddrView<'a>, PayloadError> {
        let mut r = Reader::new(payload);
        let count = r.compact_size("addr count", true)?;
        if count > MAX_ADDR_TO_SEND as u64 {
            return Err(PayloadError::TooMany { what: "addr", count, max: MAX_ADDR_TO_SEND });
        }
        let entries = r.records::<AddrEntry>(count as usize, "addr entries")?;
        r.finish()?;
        Ok(AddrView { entries })
    }
    /// The entries, borrowed.
    pub fn entries(&self) -> &'a [AddrEntry] {
        self.entries
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The entries in order.
    pub fn iter(&self) -> core::slice::Iter<'a, AddrEntry> {
        self.entries.iter()
    }
}

/// An owned `addr` (at most 1,000 entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr<'a>(pub &'a [AddrEntry]);

impl Encode for Addr<'_> {
    fn command(&self) -> Command {
        Command::ADDR
    }
    fn payload_len(&self) -> usize {
        compact::len(self.0.len() as u64) + 30 * self.0.len()
    }
    fn encode_payload(&self, out: &mut Vec<u8>) {
        compact::write(out, self.0.len() as u64);
        out.extend_from_slice(self.0.as_bytes());
    }
}

fn read_addrv2<'a>(r: &mut Reader<'a>) -> Result<AddrV2Entry<'a>, PayloadError> {
    let time = r.u32_le("addrv2 time")?;
    let services = r.compact_size("addrv2 services", false)?;
    let network = r.u8("addrv2 network id")?;
    let len = r.compact_size("addrv2 address length", true)?;
    if len > bip155::MAX_ADDRV2_SIZE as u64 {
        return Err(PayloadError::TooLong {
            what: "addrv2 address",
            len,
            max: bip155::MAX_ADDRV2_SIZE,
        });
    }
    if let Some(expected) = bip155::expected_len(network) {
        if len != expected as u64 {
            return Err(PayloadError::BadAddressLength { network, expected, found: len });
        }
    }
    let addr = r.take(len as usize, "addrv2 address")?;
    let port = u16::from_be_bytes(r.array("addrv2 port")?);
    Ok(AddrV2Entry { time, services: ServiceFlags(services), network, addr, port })
}

/// A decoded `addrv2` payload (BIP155), every entry checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrV2View<'a> {
    count: usize,
    entries: &'a [u8],
}

impl<'a> AddrV2View<'a> {
    /// Decodes an `addrv2` payload.
    pub fn decode(payload: &'a [u8]) -> Result<AddrV2View<'a>, PayloadError> {
        let mut r = Reader::new(payload);
        let count = r.compact_size("addrv2 count", true)?;
        if count > MAX_ADDR_TO_SEND as u64 {
            return Err(PayloadError::TooMany { what: "addrv2", count, max: MAX_ADDR_TO_SEND });
        }
        let start = payload.len() - r.remaining();
        for _ in 0..count {
            read_addrv2(&mut r)?;
        }
        let end = payload.len() - r.remaining();
        r.finish()?;
        Ok(AddrV2View { count: count as usize, entries: &payload[start..end] })
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// The entries in order.
    pub fn iter(&self) -> AddrV2Iter<'a> {
        AddrV2Iter { r: Reader::new(self.entries), left: self.count }
    }
    pub(crate) fn raw_entries(&self) -> &'a [u8] {
        self.entries
    }
}

/// Iterator over an [`AddrV2View`].
pub struct AddrV2Iter<'a> {
    r: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for AddrV2Iter<'a> {
    type Item = AddrV2Entry<'a>;
    fn next(&mut self) -> Option<AddrV2Entry<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        read_addrv2(&mut self.r).ok()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// An owned `addrv2` (at most 1,000 entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrV2<'a>(pub &'a [AddrV2Entry<'a>]);

impl Encode for AddrV2<'_> {
    fn command(&self) -> Command {
        Command::ADDRV2
    }
    fn payload_len(&self) -> usize {
        compact::len(self.0.len() as u64)
            + self
                .0
                .iter()
                .map(|e| {
                    4 + compact::len(e.services.0)
                        + 1
                        + compact::len(e.addr.len() as u64)
                        + e.addr.len()
                        + 2
                })
                .sum::<usize>()
    }
    fn encode_payload(&self, out: &mut Vec<u8>) {
        compact::write(out, self.0.len() as u64);
        self.0.iter().for_each(|e| write_addrv2_entry(out, e));
    }
}

pub(crate) fn write_addrv2_entry(out: &mut Vec<u8>, e: &AddrV2Entry<'_>) {
    out.extend_from_slice(&e.time.to_le_bytes());
    compact::write(out, e.services.0);
    out.push(e.network);
    compact::write(out, e.addr.len() as u64);
    out.extend_from_slice(e.addr);
    out.extend_from_slice(&e.port.to_be_bytes());
}
