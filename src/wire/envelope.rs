//! The 24-byte message envelope and [`parse_frame`], the push parser over a
//! borrowed buffer.
//!
//! | offset | size | field |
//! |--------|------|-------|
//! | 0  | 4  | magic (network message start) |
//! | 4  | 12 | command, NUL padded |
//! | 16 | 4  | payload length (u32 LE) |
//! | 20 | 4  | checksum: first 4 bytes of sha256d(payload) |
//!
//! The checks and their order follow Bitcoin Core's `V1Transport`
//! (src/net.cpp): magic, then the declared length as soon as the 24 bytes are
//! present (before any payload is buffered), the command, and once the
//! payload is complete, the checksum.

use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::network::Magic;
use crate::wire::{Command, WireError};

/// Size of the envelope (src/protocol.h `CMessageHeader::HEADER_SIZE`).
pub const ENVELOPE_SIZE: usize = 24;

/// The largest payload accepted (src/net.h `MAX_PROTOCOL_MESSAGE_LENGTH`,
/// 4,000,000 bytes; Core also caps at src/serialize.h `MAX_SIZE`, which is
/// larger).
pub const MAX_PAYLOAD_SIZE: usize = 4_000_000;

/// The envelope, laid out exactly as on the wire. Any 24 bytes are a valid
/// `Envelope`; [`parse_frame`] checks what the fields mean.
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Envelope {
    /// Network magic.
    pub magic: [u8; 4],
    /// Command, NUL padded (unchecked in a raw view).
    pub command: Command,
    /// Declared payload length.
    pub length: U32,
    /// Declared checksum.
    pub checksum: [u8; 4],
}

const _: () = assert!(core::mem::size_of::<Envelope>() == ENVELOPE_SIZE);

impl Envelope {
    /// Views the first 24 bytes of `buf` as an envelope, without checks.
    pub fn view(buf: &[u8]) -> Option<&Envelope> {
        Envelope::ref_from_prefix(buf).ok().map(|(e, _)| e)
    }

    /// Builds the envelope of `payload`, computing its checksum.
    pub fn new(magic: Magic, command: Command, payload: &[u8]) -> Envelope {
        Envelope {
            magic: magic.0,
            command,
            length: U32::new(payload.len() as u32),
            checksum: checksum(payload),
        }
    }

    /// The declared payload length.
    pub fn payload_len(&self) -> u32 {
        self.length.get()
    }
}

impl core::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Envelope")
            .field("magic", &Magic(self.magic))
            .field("command", &self.command)
            .field("length", &self.length.get())
            .field("checksum", &self.checksum)
            .finish()
    }
}

/// The first four bytes of sha256d(payload).
pub fn checksum(payload: &[u8]) -> [u8; 4] {
    let h = crate::pow::sha256d(payload);
    [h[0], h[1], h[2], h[3]]
}

/// The result of a parse that may need more bytes (httparse's `Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// Parsed.
    Complete(T),
    /// The buffer ends before the item does; parse again with more bytes.
    Partial,
}

impl<T> Status<T> {
    /// Whether this is `Complete`.
    pub fn is_complete(&self) -> bool {
        matches!(self, Status::Complete(_))
    }

    /// The value, if complete.
    pub fn complete(self) -> Option<T> {
        match self {
            Status::Complete(t) => Some(t),
            Status::Partial => None,
        }
    }
}

/// One checked message: a valid command, the borrowed payload and the
/// checksum it arrived with (verified, except for the large frames a caller
/// asked [`Deframer::next_frame_deferring`](crate::wire::Deframer::next_frame_deferring)
/// or [`parse_frame_deferring`] to leave to [`Frame::verify`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The command (checked).
    pub command: Command,
    /// The payload, borrowed from the input.
    pub payload: &'a [u8],
    /// The envelope's checksum.
    pub checksum: [u8; 4],
}

impl<'a> Frame<'a> {
    /// Decodes the payload according to the command.
    pub fn decode(&self) -> Result<crate::wire::msg::Message<'a>, crate::wire::PayloadError> {
        crate::wire::msg::Message::decode(self.command, self.payload)
    }

    /// Checks the payload against the envelope's checksum: what
    /// [`parse_frame`] does before it returns a frame, for a frame whose
    /// check was deferred. (Under `cfg(fuzzing)` every checksum passes, as
    /// in [`parse_frame`].)
    pub fn verify(&self) -> Result<(), WireError> {
        if cfg!(fuzzing) {
            return Ok(());
        }
        let expected = checksum(self.payload);
        if expected != self.checksum {
            return Err(WireError::BadChecksum { expected, found: self.checksum });
        }
        Ok(())
    }
}

/// Checks the envelope at the front of `buf` without looking at the payload:
/// magic (once 4 bytes are there), then length and command (once 24 are).
pub fn parse_envelope(magic: Magic, buf: &[u8]) -> Result<Status<&Envelope>, WireError> {
    if buf.len() < 4 {
        return Ok(Status::Partial);
    }
    let found = [buf[0], buf[1], buf[2], buf[3]];
    if found != magic.0 {
        return Err(WireError::BadMagic { expected: magic, found });
    }
    let Some(env) = Envelope::view(buf) else {
        return Ok(Status::Partial);
    };
    let declared = env.length.get();
    if declared as usize > MAX_PAYLOAD_SIZE {
        return Err(WireError::OversizedPayload { declared });
    }
    if !env.command.is_valid() {
        return Err(WireError::BadCommand { found: env.command.to_bytes() });
    }
    Ok(Status::Complete(env))
}

/// Parses one message from the front of `buf`.
///
/// Returns the frame and the number of bytes it used, `Partial` when `buf`
/// ends first, or the first envelope rule broken. Allocates nothing; hashes
/// the payload once, when it is complete.
///
/// Under `cfg(fuzzing)` the checksum is not verified (so the fuzzer reaches
/// the payload decoders); every other check still runs.
pub fn parse_frame(magic: Magic, buf: &[u8]) -> Result<Status<(Frame<'_>, usize)>, WireError> {
    Ok(match parse_frame_deferring(magic, buf, usize::MAX)? {
        Status::Complete((frame, used, _)) => Status::Complete((frame, used)),
        Status::Partial => Status::Partial,
    })
}

/// [`parse_frame`], except that a payload of at least `min` bytes is not
/// checked against its checksum: the frame comes with `false` (checked:
/// `true`), for the caller to [`Frame::verify`] before acting on it. A
/// caller with other work to do on a large payload can then do it while
/// the checksum, one long dependency chain, is computed.
pub fn parse_frame_deferring(
    magic: Magic,
    buf: &[u8],
    min: usize,
) -> Result<Status<(Frame<'_>, usize, bool)>, WireError> {
    let env = match parse_envelope(magic, buf)? {
        Status::Complete(env) => env,
        Status::Partial => return Ok(Status::Partial),
    };
    let total = ENVELOPE_SIZE + env.length.get() as usize;
    let Some(payload) = buf.get(ENVELOPE_SIZE..total) else {
        return Ok(Status::Partial);
    };
    let frame = Frame { command: env.command, payload, checksum: env.checksum };
    let checked = payload.len() < min;
    if checked {
        frame.verify()?;
    }
    Ok(Status::Complete((frame, total, checked)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERACK: &str = "f9beb4d976657261636b000000000000000000005df6e0e2";

    #[test]
    fn chapter_10_verack() {
        let bytes = hex::decode(VERACK).unwrap();
        let Status::Complete((frame, used)) = parse_frame(Magic::MAIN, &bytes).unwrap() else {
            panic!("complete")
        };
        assert_eq!(used, 24);
        assert_eq!(frame.command, Command::VERACK);
        assert!(frame.payload.is_empty());
        assert_eq!(frame.checksum, [0x5d, 0xf6, 0xe0, 0xe2]);
        for cut in 0..24 {
            assert_eq!(parse_frame(Magic::MAIN, &bytes[..cut]), Ok(Status::Partial));
        }
        assert!(matches!(
            parse_frame(Magic::TESTNET4, &bytes),
            Err(WireError::BadMagic { found: [0xf9, 0xbe, 0xb4, 0xd9], .. })
        ));
    }

    #[test]
    fn oversized_is_rejected_on_the_envelope_alone() {
        let mut bytes = hex::decode(VERACK).unwrap();
        bytes[16..20].copy_from_slice(&4_000_001u32.to_le_bytes());
        assert_eq!(
            parse_frame(Magic::MAIN, &bytes),
            Err(WireError::OversizedPayload { declared: 4_000_001 })
        );
        bytes[16..20].copy_from_slice(&4_000_000u32.to_le_bytes());
        assert_eq!(parse_frame(Magic::MAIN, &bytes), Ok(Status::Partial));
    }

    #[test]
    fn construct_emit_parse() {
        let env = Envelope::new(Magic::MAIN, Command::VERACK, &[]);
        assert_eq!(hex::encode(env.as_bytes()), VERACK);
    }

    #[cfg(not(fuzzing))]
    #[test]
    fn bad_checksum_names_both() {
        let mut bytes = hex::decode(VERACK).unwrap();
        bytes[23] ^= 1;
        assert_eq!(
            parse_frame(Magic::MAIN, &bytes),
            Err(WireError::BadChecksum {
                expected: [0x5d, 0xf6, 0xe0, 0xe2],
                found: [0x5d, 0xf6, 0xe0, 0xe3]
            })
        );
    }
}
