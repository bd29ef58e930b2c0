//! `version`: the first message of every connection.
//!
//! Layout and Bitcoin Core's reading of it (src/net_processing.cpp,
//! `ProcessMessage` for `NetMsgType::VERSION`):
//!
//! | field | size | |
//! |---|---|---|
//! | version | 4 (i32) | required |
//! | services | 8 | required |
//! | timestamp | 8 (i64) | required |
//! | addr_recv | 26 | required |
//! | addr_from + nonce | 26 + 8 | optional, read as one unit (`vRecv.ignore(26); vRecv >> nNonce`) |
//! | user_agent | CompactSize + bytes, at most 256 (`MAX_SUBVERSION_LENGTH`, src/net.h) | optional |
//! | start_height | 4 (i32) | optional |
//! | relay | 1 (any non-zero byte is true) | optional (BIP37) |
//!
//! Core reads each optional group only `if (!vRecv.empty())`, so a payload
//! may stop after any group; stopping inside one throws (here:
//! [`PayloadError::Truncated`]). Missing fields take Core's defaults: nonce 0,
//! empty user agent, start height 0, relay true. Core ignores bytes after
//! the relay byte; bitwire reports them as [`PayloadError::TrailingBytes`]
//! (like rust-bitcoin), so that encode(decode(x)) == x holds, and a
//! [`Peer`](crate::peer::Peer) ignores them as Core does.

use zerocopy::little_endian::{I32, I64, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::wire::compact;
use crate::wire::msg::{Encode, MAX_SUBVERSION_LENGTH};
use crate::wire::reader::Reader;
use crate::wire::{Command, NetAddr, PayloadError, ServiceFlags};

/// The four required fields, 46 bytes.
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VersionFixed {
    /// Protocol version.
    pub version: I32,
    /// Sender's services.
    pub services: U64,
    /// Sender's clock, Unix seconds.
    pub timestamp: I64,
    /// The address the sender sees for the receiver.
    pub receiver: NetAddr,
}

/// `addr_from` and the nonce, read as one unit, 34 bytes.
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VersionSender {
    /// The sender's own address (Core ignores it).
    pub sender: NetAddr,
    /// Self-connection detection nonce.
    pub nonce: U64,
}

/// A decoded `version` payload, borrowing it. Optional fields are `None` when
/// the payload stopped before them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionView<'a> {
    fixed: &'a VersionFixed,
    sender: Option<&'a VersionSender>,
    user_agent: Option<&'a [u8]>,
    start_height: Option<i32>,
    relay: Option<u8>,
}

impl core::fmt::Debug for VersionFixed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VersionFixed").field("version", &self.version.get()).finish_non_exhaustive()
    }
}

impl core::fmt::Debug for VersionSender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VersionSender").field("nonce", &self.nonce.get()).finish_non_exhaustive()
    }
}

impl<'a> VersionView<'a> {
    /// Decodes a `version` payload.
    pub fn decode(payload: &'a [u8]) -> Result<VersionView<'a>, PayloadError> {
        let mut r = Reader::new(payload);
        let fixed = r.record::<VersionFixed>("version")?;
        let mut v =
            VersionView { fixed, sender: None, user_agent: None, start_height: None, relay: None };
        if !r.is_empty() {
            v.sender = Some(r.record::<VersionSender>("version addr_from and nonce")?);
        }
        if !r.is_empty() {
            let len = r.compact_size("version user_agent length", true)?;
            if len > MAX_SUBVERSION_LENGTH as u64 {
                return Err(PayloadError::TooLong {
                    what: "user_agent",
                    len,
                    max: MAX_SUBVERSION_LENGTH,
                });
            }
            v.user_agent = Some(r.take(len as usize, "version user_agent")?);
        }
        if !r.is_empty() {
            v.start_height = Some(r.i32_le("version start_height")?);
        }
        if !r.is_empty() {
            v.relay = Some(r.u8("version relay")?);
        }
        r.finish()?;
        Ok(v)
    }

    /// Protocol version.
    pub fn version(&self) -> i32 {
        self.fixed.version.get()
    }
    /// Sender's services.
    pub fn services(&self) -> ServiceFlags {
        ServiceFlags(self.fixed.services.get())
    }
    /// Sender's clock, Unix seconds (Core clamps negative values to 0 when it uses it).
    pub fn timestamp(&self) -> i64 {
        self.fixed.timestamp.get()
    }
    /// The address the sender sees for us.
    pub fn receiver(&self) -> &'a NetAddr {
        &self.fixed.receiver
    }
    /// The sender's own address, if present.
    pub fn sender(&self) -> Option<&'a NetAddr> {
        self.sender.map(|s| &s.sender)
    }
    /// The nonce, if present.
    pub fn nonce(&self) -> Option<u64> {
        self.sender.map(|s| s.nonce.get())
    }
    /// The raw user agent bytes (not necessarily UTF-8), if present.
    pub fn user_agent(&self) -> Option<&'a [u8]> {
        self.user_agent
    }
    /// The sender's best height, if present.
    pub fn start_height(&self) -> Option<i32> {
        self.start_height
    }
    /// The BIP37 relay flag, if present.
    pub fn relay(&self) -> Option<bool> {
        self.relay.map(|b| b != 0)
    }
    /// The relay byte as sent (Core reads any non-zero byte as true).
    pub fn relay_byte(&self) -> Option<u8> {
        self.relay
    }

    /// The owned form, missing fields filled with Core's defaults.
    pub fn to_version(&self) -> Version<'a> {
        Version {
            version: self.version(),
            services: self.services(),
            timestamp: self.timestamp(),
            receiver: *self.receiver(),
            sender: self.sender().copied().unwrap_or_default(),
            nonce: self.nonce().unwrap_or(0),
            user_agent: self.user_agent.unwrap_or(b""),
            start_height: self.start_height.unwrap_or(0),
            relay: self.relay().unwrap_or(true),
        }
    }

    /// Re-encodes exactly the fields that were present.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.fixed.as_bytes());
        if let Some(s) = self.sender {
            out.extend_from_slice(s.as_bytes());
        }
        if let Some(ua) = self.user_agent {
            compact::write(out, ua.len() as u64);
            out.extend_from_slice(ua);
        }
        if let Some(h) = self.start_height {
            out.extend_from_slice(&h.to_le_bytes());
        }
        if let Some(b) = self.relay {
            out.push(b);
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        46 + self.sender.map_or(0, |_| 34)
            + self.user_agent.map_or(0, |ua| compact::len(ua.len() as u64) + ua.len())
            + self.start_height.map_or(0, |_| 4)
            + self.relay.map_or(0, |_| 1)
    }
}

/// An owned `version`, always encoded in full (with the relay byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version<'a> {
    /// Protocol version (Core's `PROTOCOL_VERSION` is 70016).
    pub version: i32,
    /// Our services.
    pub services: ServiceFlags,
    /// Our clock, Unix seconds.
    pub timestamp: i64,
    /// The peer's address as we see it.
    pub receiver: NetAddr,
    /// Our address (Core sends all zeroes).
    pub sender: NetAddr,
    /// Self-connection detection nonce.
    pub nonce: u64,
    /// User agent (BIP14), at most 256 bytes.
    pub user_agent: &'a [u8],
    /// Our best height.
    pub start_height: i32,
    /// BIP37 relay flag.
    pub relay: bool,
}

impl Encode for Version<'_> {
    fn command(&self) -> Command {
        Command::VERSION
    }
    fn payload_len(&self) -> usize {
        46 + 34 + compact::len(self.user_agent.len() as u64) + self.user_agent.len() + 4 + 1
    }
    fn encode_payload(&self, out: &mut Vec<u8>) {
        let fixed = VersionFixed {
            version: I32::new(self.version),
            services: U64::new(self.services.0),
            timestamp: I64::new(self.timestamp),
            receiver: self.receiver,
        };
        out.extend_from_slice(fixed.as_bytes());
        out.extend_from_slice(self.sender.as_bytes());
        out.extend_from_slice(&self.nonce.to_le_bytes());
        compact::write(out, self.user_agent.len() as u64);
        out.extend_from_slice(self.user_agent);
        out.extend_from_slice(&self.start_height.to_le_bytes());
        out.push(u8::from(self.relay));
    }
}
