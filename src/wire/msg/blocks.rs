//! `getheaders` / `getblocks` (a block locator) and `headers`.
//!
//! getheaders (src/net_processing.cpp): `vRecv >> locator >> hashStop`, where
//! the locator (src/primitives/block.h `CBlockLocator`) is a 4-byte version
//! then a vector of hashes; Core disconnects when the vector holds more than
//! `MAX_LOCATOR_SZ` (101) hashes. The same applies to getblocks.
//!
//! headers: Core reads the count with `ReadCompactSize` and rejects more than
//! `MAX_HEADERS_RESULTS` (2000) before reading any header; each entry is an
//! 80-byte header followed by a CompactSize transaction count that Core
//! reads and ignores (`ReadCompactSize(vRecv); // ignore tx count; assume it
//! is 0.`). So a non-zero count is *accepted* by Core (as here, exposed by
//! [`HeadersView::entries`]), while rust-bitcoin rejects anything but a 0
//! byte: an intended difference. The count must still be a canonical
//! CompactSize of at most MAX_SIZE. bitwire always sends 0.

use crate::wire::compact;
use crate::wire::msg::{Encode, MAX_HEADERS_RESULTS, MAX_LOCATOR_SZ};
use crate::wire::reader::Reader;
use crate::wire::{BlockHash, BlockHeader, Command, PayloadError, HEADER_SIZE};

/// A decoded `getheaders` or `getblocks` payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetHeadersView<'a> {
    version: u32,
    locator: &'a [BlockHash],
    stop_hash: &'a BlockHash,
}

impl<'a> GetHeadersView<'a> {
    /// Decodes a `getheaders` (or `getblocks`) payload.
    pub fn decode(payload: &'a [u8]) -> Result<GetHeadersView<'a>, PayloadError> {
        let mut r = Reader::new(payload);
        let version = r.u32_le("locator version")?;
        let count = r.compact_size("locator count", true)?;
        if count > MAX_LOCATOR_SZ as u64 {
            return Err(PayloadError::TooMany { what: "locator", count, max: MAX_LOCATOR_SZ });
        }
        let locator = r.records::<BlockHash>(count as usize, "locator hashes")?;
        let stop_hash = r.record::<BlockHash>("stop hash")?;
        r.finish()?;
        Ok(GetHeadersView { version, locator, stop_hash })
    }

    /// The locator's version field (the sender's protocol version).
    pub fn version(&self) -> u32 {
        self.version
    }
    /// The locator hashes, newest first.
    pub fn locator(&self) -> &'a [BlockHash] {
        self.locator
    }
    /// The hash to stop at (zero: as many as allowed).
    pub fn stop_hash(&self) -> BlockHash {
        *self.stop_hash
    }
    /// The owned form.
    pub fn to_get_headers(&self) -> GetHeaders<'a> {
        GetHeaders { version: self.version, locator: self.locator, stop_hash: *self.stop_hash }
    }
}

/// An owned `getheaders`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetHeaders<'a> {
    /// Our protocol version.
    pub version: u32,
    /// Locator hashes, newest first, at most 101.
    pub locator: &'a [BlockHash],
    /// Hash to stop at, or zero.
    pub stop_hash: BlockHash,
}

/// An owned `getblocks` (same layout as [`GetHeaders`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetBlocks<'a>(pub GetHeaders<'a>);

fn locator_len(g: &GetHeaders<'_>) -> usize {
    4 + compact::len(g.locator.len() as u64) + 32 * g.locator.len() + 32
}

fn locator_encode(g: &GetHeaders<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(&g.version.to_le_bytes());
    compact::write(out, g.locator.len() as u64);
    for h in g.locator {
        out.extend_from_slice(h.as_bytes());
    }
    out.extend_from_slice(g.stop_hash.as_bytes());
}

impl Encode for GetHeaders<'_> {
    fn command(&self) -> Command {
        Command::GETHEADERS
    }
    fn payload_len(&self) -> usize {
        locator_len(self)
    }
    fn encode_payload(&self, out: &mut Vec<u8>) {
        locator_encode(self, out)
    }
}

impl Encode for GetBlocks<'_> {
    fn command(&self) -> Command {
        Command::GETBLOCKS
    }
    fn payload_len(&self) -> usize {
        locator_len(&self.0)
    }
    fn encode_payload(&self, out: &mut Vec<u8>) {
        locator_encode(&self.0, out)
    }
}

/// A decoded `headers` payload: at most 2000 entries, each a borrowed
/// 80-byte header plus its transaction count. Nothing is copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadersView<'a> {
    count: usize,
    /// The entries, all checked by `decode`.
    entries: &'a [u8],
}

impl<'a> HeadersView<'a> {
    /// Decodes a `headers` payload, checking every entry.
    pub fn decode(payload: &'a [u8]) -> Result<HeadersView<'a>, PayloadError> {
        let mut r = Reader::new(payload);
        let count = r.compact_size("headers count", true)?;
        if count > MAX_HEADERS_RESULTS as u64 {
            return Err(PayloadError::TooMany { what: "headers", count, max: MAX_HEADERS_RESULTS });
        }
        let count = count as usize;
        // Each entry is at least 81 bytes: check that before walking them.
        if r.remaining() < count * (HEADER_SIZE + 1) {
            return Err(PayloadError::Truncated {
                field: "headers",
                needed: count * (HEADER_SIZE + 1),
                available: r.remaining(),
            });
        }
        let start = payload.len() - r.remaining();
        let rest = &payload[start..];
        if rest.len() == count * (HEADER_SIZE + 1)
            && rest.chunks_exact(HEADER_SIZE + 1).all(|e| e[HEADER_SIZE] < 0xfd)
        {
            // The common case: every tx count is one byte (0x00..=0xfc).
            return Ok(HeadersView { count, entries: rest });
        }
        for _ in 0..count {
            r.take(HEADER_SIZE, "header")?;
            r.compact_size("header tx count", true)?;
        }
        let end = payload.len() - r.remaining();
        r.finish()?;
        Ok(HeadersView { count, entries: &payload[start..end] })
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.count
    }
    /// Whether the message holds no headers (the peer has nothing more).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// The headers, in order, as borrowed 80-byte views.
    pub fn iter(&self) -> HeadersIter<'a> {
        HeadersIter { rest: self.entries, left: self.count }
    }
    /// The headers with the transaction count that followed each (0 from
    /// every honest peer; Core ignores it).
    pub fn entries(&self) -> HeaderEntries<'a> {
        HeaderEntries(self.iter())
    }
    /// The last header, if any.
    pub fn last(&self) -> Option<&'a BlockHeader> {
        self.iter().last()
    }
}

impl<'a> IntoIterator for HeadersView<'a> {
    type Item = &'a BlockHeader;
    type IntoIter = HeadersIter<'a>;
    fn into_iter(self) -> HeadersIter<'a> {
        self.iter()
    }
}

/// Iterator over a [`HeadersView`]'s headers.
#[derive(Clone, Debug)]
pub struct HeadersIter<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> HeadersIter<'a> {
    fn next_entry(&mut self) -> Option<(&'a BlockHeader, u64)> {
        if self.left == 0 {
            return None;
        }
        let (header, rest) = self.rest.split_at_checked(HEADER_SIZE)?;
        let (tx_count, used) = match rest.first() {
            Some(&b) if b < 0xfd => (u64::from(b), 1),
            _ => compact::read(rest, "header tx count", true).ok()?,
        };
        self.rest = &rest[used..];
        self.left -= 1;
        Some((BlockHeader::view(header)?, tx_count))
    }
}

impl<'a> Iterator for HeadersIter<'a> {
    type Item = &'a BlockHeader;
    fn next(&mut self) -> Option<&'a BlockHeader> {
        self.next_entry().map(|(h, _)| h)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
    fn last(self) -> Option<&'a BlockHeader> {
        // Fixed 81-byte stride when every tx count left takes one byte (the
        // common case): no walk.
        if self.left > 0 && self.rest.len() == self.left * (HEADER_SIZE + 1) {
            let at = (self.left - 1) * (HEADER_SIZE + 1);
            return BlockHeader::view(&self.rest[at..at + HEADER_SIZE]);
        }
        self.fold(None, |_, h| Some(h))
    }
}

impl ExactSizeIterator for HeadersIter<'_> {}

/// Iterator over a [`HeadersView`]'s headers with their tx counts.
#[derive(Clone, Debug)]
pub struct HeaderEntries<'a>(HeadersIter<'a>);

impl<'a> Iterator for HeaderEntries<'a> {
    type Item = (&'a BlockHeader, u64);
    fn next(&mut self) -> Option<(&'a BlockHeader, u64)> {
        self.0.next_entry()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for HeaderEntries<'_> {}

/// An owned `headers`: each header is written followed by a 0 tx count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Headers<'a>(pub &'a [BlockHeader]);

impl Encode for Headers<'_> {
    fn command(&self) -> Command {
        Command::HEADERS
    }
    fn payload_len(&self) -> usize {
        compact::len(self.0.len() as u64) + self.0.len() * (HEADER_SIZE + 1)
    }
    fn encode_payload(&self, out: &mut Vec<u8>) {
        compact::write(out, self.0.len() as u64);
        for h in self.0 {
            out.extend_from_slice(h.bytes());
            out.push(0);
        }
    }
}

impl HeadersView<'_> {
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        compact::write(out, self.count as u64);
        for (h, tx) in self.entries() {
            out.extend_from_slice(h.bytes());
            compact::write(out, tx);
        }
    }
    pub(crate) fn encoded_len(&self) -> usize {
        compact::len(self.count as u64) + self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `headers` payload of `n` distinct headers, the `big`-th with a
    /// 3-byte transaction count (253: 0xfd 0xfd 0x00), the others with one byte.
    fn payload(n: u8, big: Option<u8>) -> Vec<u8> {
        let mut p = vec![n];
        for i in 0..n {
            p.extend_from_slice(&[i; HEADER_SIZE]);
            if Some(i) == big {
                p.extend_from_slice(&[0xfd, 0xfd, 0]);
            } else {
                p.push(0);
            }
        }
        p
    }

    #[test]
    fn last_agrees_with_a_walk_in_both_layouts() {
        for big in [None, Some(0), Some(2), Some(4)] {
            let bytes = payload(5, big);
            let view = HeadersView::decode(&bytes).unwrap();
            let walked = view.iter().fold(None, |_, h| Some(h));
            assert_eq!(view.last(), walked, "{big:?}");
            assert_eq!(view.last().unwrap().bytes(), &[4; HEADER_SIZE]);
            // And from part-way through.
            let mut it = view.iter();
            it.next();
            it.next();
            assert_eq!(it.last(), walked);
        }
        assert_eq!(HeadersView::decode(&[0]).unwrap().last(), None);
    }
}
