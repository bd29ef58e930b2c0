//! The wire layer's two error types: one for the envelope and the stream
//! ([`WireError`]), one for a payload's contents ([`PayloadError`]).
//!
//! Needing more bytes is never an error (see [`crate::wire::Status`]); every
//! variant here names what was wrong, with what was expected and found.

use core::fmt;

use crate::network::Magic;
use crate::wire::Command;

/// What went wrong in a message's 24-byte envelope or in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The four bytes where a message should start are not the network's
    /// magic. Bitcoin Core disconnects ("Header error: Wrong MessageStart").
    BadMagic {
        /// The network's magic.
        expected: Magic,
        /// The bytes found instead.
        found: [u8; 4],
    },
    /// The command is not 1 to 12 printable ASCII bytes (0x20..=0x7e)
    /// followed only by NULs. Core drops the message and keeps the peer.
    BadCommand {
        /// The 12 command bytes as received.
        found: [u8; 12],
    },
    /// The declared payload length exceeds [`crate::wire::MAX_PAYLOAD_SIZE`];
    /// rejected as soon as the 24 envelope bytes are present, before any
    /// payload is buffered. Core disconnects ("Header error: Size too large").
    OversizedPayload {
        /// The length the envelope declared.
        declared: u32,
    },
    /// The envelope's checksum is not the first four bytes of sha256d of the
    /// payload. Core drops the message and keeps the peer.
    BadChecksum {
        /// The checksum computed from the payload.
        expected: [u8; 4],
        /// The checksum the envelope carried.
        found: [u8; 4],
    },
    /// The stream ended inside a message.
    Truncated {
        /// Bytes the message needed (envelope plus declared payload, or 24
        /// when the envelope itself was cut).
        needed: usize,
        /// Bytes that were there.
        available: usize,
    },
}

impl WireError {
    /// The short name the CLI prints (`bad-magic`, `bad-command`,
    /// `oversized-payload`, `bad-checksum`, `truncated`).
    pub const fn name(&self) -> &'static str {
        match self {
            WireError::BadMagic { .. } => "bad-magic",
            WireError::BadCommand { .. } => "bad-command",
            WireError::OversizedPayload { .. } => "oversized-payload",
            WireError::BadChecksum { .. } => "bad-checksum",
            WireError::Truncated { .. } => "truncated",
        }
    }

    /// Same as [`WireError::name`].
    pub const fn code(&self) -> &'static str {
        self.name()
    }
}

fn hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::BadMagic { expected, found } => {
                write!(f, "bad magic: expected {expected}, found ")?;
                hex(f, found)
            }
            WireError::BadCommand { found } => {
                f.write_str(
                    "bad command: expected 1 to 12 printable ascii bytes then nuls, found ",
                )?;
                hex(f, found)
            }
            WireError::OversizedPayload { declared } => write!(
                f,
                "oversized payload: declared {declared} bytes, at most {} allowed",
                crate::wire::MAX_PAYLOAD_SIZE
            ),
            WireError::BadChecksum { expected, found } => {
                f.write_str("bad checksum: expected ")?;
                hex(f, expected)?;
                f.write_str(", found ")?;
                hex(f, found)
            }
            WireError::Truncated { needed, available } => {
                write!(
                    f,
                    "truncated message: needed {needed} bytes, stream ended after {available}"
                )
            }
        }
    }
}

impl std::error::Error for WireError {}

/// What went wrong inside a payload whose envelope was fine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadError {
    /// The payload ended inside a field.
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A CompactSize used more bytes than its value needs (Core:
    /// "non-canonical ReadCompactSize()").
    NonCanonicalCompactSize {
        /// The decoded value.
        value: u64,
        /// Bytes it was encoded in.
        encoded_len: usize,
    },
    /// A CompactSize above MAX_SIZE (0x02000000, src/serialize.h) where Core
    /// range-checks it ("ReadCompactSize(): size too large").
    CompactSizeTooLarge {
        /// The decoded value.
        value: u64,
    },
    /// Bytes left over after the last field.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A list longer than the protocol allows.
    TooMany {
        /// The list (`headers`, `locator`, `inv`, `addr`, `addrv2`).
        what: &'static str,
        /// The count the payload declared.
        count: u64,
        /// The protocol limit.
        max: usize,
    },
    /// A byte string longer than the protocol allows.
    TooLong {
        /// The field (`user_agent`, `addrv2 address`).
        what: &'static str,
        /// The declared length.
        len: u64,
        /// The protocol limit.
        max: usize,
    },
    /// A BIP155 address whose length does not match its network id.
    BadAddressLength {
        /// The BIP155 network id.
        network: u8,
        /// The length that network requires.
        expected: usize,
        /// The length declared.
        found: u64,
    },
}

impl PayloadError {
    /// The short name the CLI prints (`truncated`, `non-canonical-compact-size`,
    /// `compact-size-too-large`, `trailing-bytes`, `too-many`, `too-long`,
    /// `bad-address-length`).
    pub const fn name(&self) -> &'static str {
        match self {
            PayloadError::Truncated { .. } => "truncated",
            PayloadError::NonCanonicalCompactSize { .. } => "non-canonical-compact-size",
            PayloadError::CompactSizeTooLarge { .. } => "compact-size-too-large",
            PayloadError::TrailingBytes { .. } => "trailing-bytes",
            PayloadError::TooMany { .. } => "too-many",
            PayloadError::TooLong { .. } => "too-long",
            PayloadError::BadAddressLength { .. } => "bad-address-length",
        }
    }

    /// Same as [`PayloadError::name`].
    pub const fn code(&self) -> &'static str {
        self.name()
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PayloadError::Truncated { field, needed, available } => write!(
                f,
                "truncated payload: {field} needs {needed} bytes, {available} left"
            ),
            PayloadError::NonCanonicalCompactSize { value, encoded_len } => write!(
                f,
                "non-canonical compact size: {value} encoded in {encoded_len} bytes"
            ),
            PayloadError::CompactSizeTooLarge { value } => write!(
                f,
                "compact size too large: expected at most {}, found {value}",
                crate::wire::compact::MAX_SIZE
            ),
            PayloadError::TrailingBytes { count } => {
                write!(f, "trailing bytes: expected end of payload, found {count} more")
            }
            PayloadError::TooMany { what, count, max } => {
                write!(f, "too many {what} entries: at most {max}, found {count}")
            }
            PayloadError::TooLong { what, len, max } => {
                write!(f, "{what} too long: at most {max} bytes, found {len}")
            }
            PayloadError::BadAddressLength { network, expected, found } => write!(
                f,
                "bad bip155 address length for network {network}: expected {expected}, found {found}"
            ),
        }
    }
}

impl std::error::Error for PayloadError {}

/// A frame whose envelope was fine but whose payload failed to decode: the
/// command it came with and what was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageError {
    /// The frame's command.
    pub command: Command,
    /// The payload error.
    pub error: PayloadError,
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.command.as_str(), self.error)
    }
}

impl std::error::Error for MessageError {}
