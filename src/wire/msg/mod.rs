//! Message payloads: a borrowed view and an encoder per command.
//!
//! [`Message::decode`] turns a checked frame's command and payload into a
//! [`Message`], allocating nothing: variable-length payloads become views
//! over the payload (`VersionView`, `HeadersView`, ...). Commands bitwire
//! does not decode are [`Message::Unknown`], never an error.
//!
//! Encoders implement [`Encode`] and write into a buffer the caller owns
//! (see [`crate::wire::write_message`]). A decoded [`Message`] is itself
//! `Encode` and re-emits exactly the bytes it came from.
//!
//! ## Rules, and where they differ from Core and from rust-bitcoin
//! - Limits are Core's: [`MAX_HEADERS_RESULTS`], [`MAX_LOCATOR_SZ`],
//!   [`MAX_INV_SZ`], [`MAX_ADDR_TO_SEND`], [`MAX_SUBVERSION_LENGTH`]; every
//!   CompactSize is canonical and (counts, lengths) at most MAX_SIZE.
//! - Trailing bytes after the last field are [`PayloadError::TrailingBytes`]
//!   for every decoded command, empty-payload ones included. Core ignores
//!   trailing bytes; rust-bitcoin 0.32 rejects them. Reporting them keeps
//!   encode(decode(x)) == x exact; the peer layer then decodes the payload
//!   without them, as Core reads it (`crate::peer`).
//! - `version` short forms are accepted as Core accepts them (see
//!   [`version`]); rust-bitcoin requires every field. The user agent may be
//!   any bytes (Core sanitises, rust-bitcoin requires UTF-8).
//! - `headers` entries may carry a non-zero tx count, as Core ignores it (see
//!   [`blocks`]); rust-bitcoin requires a 0 byte.
//! - `ping` needs its 8-byte nonce (BIP31; Core only reads it from peers
//!   newer than 60000, and bitwire speaks to no older peer). `pong` needs 8
//!   bytes (Core logs a short pong and ignores it).
//! - `feefilter` is any i64; Core ignores values outside MoneyRange,
//!   rust-bitcoin rejects them.
//! - `sendcmpct`'s announce flag, like every bool, is true for any non-zero
//!   byte (Core and rust-bitcoin agree); it re-encodes as 1.
//! - addrv2 address lengths are checked per BIP155 network; address
//!   *contents* (IPv4-mapped IPv6, CJDNS prefix) are not (see [`lists`]).

pub mod blocks;
pub mod lists;
pub mod version;

pub use blocks::{
    GetBlocks, GetHeaders, GetHeadersView, HeaderEntries, Headers, HeadersIter, HeadersView,
};
pub use lists::{Addr, AddrV2, AddrV2Iter, AddrV2View, AddrView, GetData, Inv, InvView, NotFound};
pub use version::{Version, VersionView};

use crate::wire::reader::Reader;
use crate::wire::{Command, PayloadError};

/// Most headers in one `headers` message (src/net_processing.cpp `MAX_HEADERS_RESULTS`).
pub const MAX_HEADERS_RESULTS: usize = 2000;
/// Most hashes in a block locator (src/net_processing.cpp `MAX_LOCATOR_SZ`).
pub const MAX_LOCATOR_SZ: usize = 101;
/// Most entries in `inv` / `getdata` / `notfound` (src/net_processing.cpp `MAX_INV_SZ`).
pub const MAX_INV_SZ: usize = 50_000;
/// Most entries in `addr` / `addrv2` (src/net.h `MAX_ADDR_TO_SEND`).
pub const MAX_ADDR_TO_SEND: usize = 1000;
/// Longest user agent (src/net.h `MAX_SUBVERSION_LENGTH`).
pub const MAX_SUBVERSION_LENGTH: usize = 256;

/// A message that can be written: its command and its payload.
pub trait Encode {
    /// The command the envelope carries.
    fn command(&self) -> Command;
    /// The exact number of bytes [`Encode::encode_payload`] appends.
    fn payload_len(&self) -> usize;
    /// Appends the payload to `out`.
    fn encode_payload(&self, out: &mut Vec<u8>);
}

macro_rules! empty_message {
    ($name:ident, $cmd:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;

        impl Encode for $name {
            fn command(&self) -> Command {
                Command::$cmd
            }
            fn payload_len(&self) -> usize {
                0
            }
            fn encode_payload(&self, _out: &mut Vec<u8>) {}
        }
    };
}

empty_message!(Verack, VERACK, "`verack`: accepts the peer's `version`.");
empty_message!(SendHeaders, SENDHEADERS, "`sendheaders` (BIP130): announce blocks by headers.");
empty_message!(WtxidRelay, WTXIDRELAY, "`wtxidrelay` (BIP339), sent before `verack`.");
empty_message!(SendAddrV2, SENDADDRV2, "`sendaddrv2` (BIP155), sent before `verack`.");
empty_message!(GetAddr, GETADDR, "`getaddr`: ask for addresses.");
empty_message!(MemPool, MEMPOOL, "`mempool` (BIP35).");

macro_rules! u64_message {
    ($name:ident, $cmd:ident, $ty:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(pub $ty);

        impl Encode for $name {
            fn command(&self) -> Command {
                Command::$cmd
            }
            fn payload_len(&self) -> usize {
                8
            }
            fn encode_payload(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0.to_le_bytes());
            }
        }
    };
}

u64_message!(Ping, PING, u64, "`ping` with its nonce (BIP31).");
u64_message!(Pong, PONG, u64, "`pong` echoing a ping's nonce (BIP31).");
u64_message!(FeeFilter, FEEFILTER, i64, "`feefilter` (BIP133): minimum fee rate, sat/kvB.");

/// `sendcmpct` (BIP152).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendCmpct {
    /// High-bandwidth mode.
    pub announce: bool,
    /// Compact block version (1 or 2).
    pub version: u64,
}

impl Encode for SendCmpct {
    fn command(&self) -> Command {
        Command::SENDCMPCT
    }
    fn payload_len(&self) -> usize {
        9
    }
    fn encode_payload(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.announce));
        out.extend_from_slice(&self.version.to_le_bytes());
    }
}

/// A decoded payload. Borrowed from the frame; nothing allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message<'a> {
    /// `version`.
    Version(VersionView<'a>),
    /// `verack`.
    Verack,
    /// `ping` nonce.
    Ping(u64),
    /// `pong` nonce.
    Pong(u64),
    /// `sendheaders`.
    SendHeaders,
    /// `wtxidrelay`.
    WtxidRelay,
    /// `sendaddrv2`.
    SendAddrV2,
    /// `feefilter` rate, sat/kvB.
    FeeFilter(i64),
    /// `sendcmpct`.
    SendCmpct {
        /// High-bandwidth mode.
        announce: bool,
        /// Compact block version.
        version: u64,
    },
    /// `getheaders`.
    GetHeaders(GetHeadersView<'a>),
    /// `getblocks` (same layout as getheaders).
    GetBlocks(GetHeadersView<'a>),
    /// `headers`.
    Headers(HeadersView<'a>),
    /// `inv`.
    Inv(InvView<'a>),
    /// `getdata`.
    GetData(InvView<'a>),
    /// `notfound`.
    NotFound(InvView<'a>),
    /// `addr`.
    Addr(AddrView<'a>),
    /// `addrv2`.
    AddrV2(AddrV2View<'a>),
    /// `getaddr`.
    GetAddr,
    /// `mempool`.
    MemPool,
    /// Any other command, with its raw payload.
    Unknown {
        /// The command.
        command: Command,
        /// The payload, unparsed.
        payload: &'a [u8],
    },
}

fn empty(payload: &[u8]) -> Result<(), PayloadError> {
    Reader::new(payload).finish()
}

fn fixed8(payload: &[u8], field: &'static str) -> Result<[u8; 8], PayloadError> {
    let mut r = Reader::new(payload);
    let v = r.array::<8>(field)?;
    r.finish()?;
    Ok(v)
}

impl<'a> Message<'a> {
    /// Decodes `payload` according to `command`.
    pub fn decode(command: Command, payload: &'a [u8]) -> Result<Message<'a>, PayloadError> {
        Ok(match command {
            Command::VERSION => Message::Version(VersionView::decode(payload)?),
            Command::VERACK => empty(payload).map(|_| Message::Verack)?,
            Command::PING => Message::Ping(u64::from_le_bytes(fixed8(payload, "ping nonce")?)),
            Command::PONG => Message::Pong(u64::from_le_bytes(fixed8(payload, "pong nonce")?)),
            Command::SENDHEADERS => empty(payload).map(|_| Message::SendHeaders)?,
            Command::WTXIDRELAY => empty(payload).map(|_| Message::WtxidRelay)?,
            Command::SENDADDRV2 => empty(payload).map(|_| Message::SendAddrV2)?,
            Command::GETADDR => empty(payload).map(|_| Message::GetAddr)?,
            Command::MEMPOOL => empty(payload).map(|_| Message::MemPool)?,
            Command::FEEFILTER => {
                Message::FeeFilter(i64::from_le_bytes(fixed8(payload, "feefilter rate")?))
            }
            Command::SENDCMPCT => {
                let mut r = Reader::new(payload);
                let announce = r.u8("sendcmpct announce")? != 0;
                let version = r.u64_le("sendcmpct version")?;
                r.finish()?;
                Message::SendCmpct { announce, version }
            }
            Command::GETHEADERS => Message::GetHeaders(GetHeadersView::decode(payload)?),
            Command::GETBLOCKS => Message::GetBlocks(GetHeadersView::decode(payload)?),
            Command::HEADERS => Message::Headers(HeadersView::decode(payload)?),
            Command::INV => Message::Inv(InvView::decode(payload)?),
            Command::GETDATA => Message::GetData(InvView::decode(payload)?),
            Command::NOTFOUND => Message::NotFound(InvView::decode(payload)?),
            Command::ADDR => Message::Addr(AddrView::decode(payload)?),
            Command::ADDRV2 => Message::AddrV2(AddrV2View::decode(payload)?),
            command => Message::Unknown { command, payload },
        })
    }
}

impl Encode for Message<'_> {
    fn command(&self) -> Command {
        match self {
            Message::Version(_) => Command::VERSION,
            Message::Verack => Command::VERACK,
            Message::Ping(_) => Command::PING,
            Message::Pong(_) => Command::PONG,
            Message::SendHeaders => Command::SENDHEADERS,
            Message::WtxidRelay => Command::WTXIDRELAY,
            Message::SendAddrV2 => Command::SENDADDRV2,
            Message::FeeFilter(_) => Command::FEEFILTER,
            Message::SendCmpct { .. } => Command::SENDCMPCT,
            Message::GetHeaders(_) => Command::GETHEADERS,
            Message::GetBlocks(_) => Command::GETBLOCKS,
            Message::Headers(_) => Command::HEADERS,
            Message::Inv(_) => Command::INV,
            Message::GetData(_) => Command::GETDATA,
            Message::NotFound(_) => Command::NOTFOUND,
            Message::Addr(_) => Command::ADDR,
            Message::AddrV2(_) => Command::ADDRV2,
            Message::GetAddr => Command::GETADDR,
            Message::MemPool => Command::MEMPOOL,
            Message::Unknown { command, .. } => *command,
        }
    }

    fn payload_len(&self) -> usize {
        match self {
            Message::Version(v) => v.encoded_len(),
            Message::Verack
            | Message::SendHeaders
            | Message::WtxidRelay
            | Message::SendAddrV2
            | Message::GetAddr
            | Message::MemPool => 0,
            Message::Ping(_) | Message::Pong(_) | Message::FeeFilter(_) => 8,
            Message::SendCmpct { .. } => 9,
            Message::GetHeaders(g) | Message::GetBlocks(g) => g.to_get_headers().payload_len(),
            Message::Headers(h) => h.encoded_len(),
            Message::Inv(i) | Message::GetData(i) | Message::NotFound(i) => {
                Inv(i.entries()).payload_len()
            }
            Message::Addr(a) => Addr(a.entries()).payload_len(),
            Message::AddrV2(a) => crate::wire::compact::len(a.len() as u64) + a.raw_entries().len(),
            Message::Unknown { payload, .. } => payload.len(),
        }
    }

    fn encode_payload(&self, out: &mut Vec<u8>) {
        match self {
            Message::Version(v) => v.encode_into(out),
            Message::Verack
            | Message::SendHeaders
            | Message::WtxidRelay
            | Message::SendAddrV2
            | Message::GetAddr
            | Message::MemPool => {}
            Message::Ping(n) => Ping(*n).encode_payload(out),
            Message::Pong(n) => Pong(*n).encode_payload(out),
            Message::FeeFilter(n) => FeeFilter(*n).encode_payload(out),
            Message::SendCmpct { announce, version } => {
                SendCmpct { announce: *announce, version: *version }.encode_payload(out)
            }
            Message::GetHeaders(g) | Message::GetBlocks(g) => {
                g.to_get_headers().encode_payload(out)
            }
            Message::Headers(h) => h.encode_into(out),
            Message::Inv(i) | Message::GetData(i) | Message::NotFound(i) => {
                Inv(i.entries()).encode_payload(out)
            }
            Message::Addr(a) => Addr(a.entries()).encode_payload(out),
            Message::AddrV2(a) => {
                crate::wire::compact::write(out, a.len() as u64);
                a.iter().for_each(|e| lists::write_addrv2_entry(out, &e));
            }
            Message::Unknown { payload, .. } => out.extend_from_slice(payload),
        }
    }
}
