//! The wire layer: zero-copy views over received bytes and encoders into
//! caller-owned buffers. No allocation to parse, no I/O, no clock.
//!
//! - [`parse_frame`]: one message from the front of a buffer, as
//!   [`Status::Complete`] / [`Status::Partial`] / a [`WireError`];
//! - [`Deframer`]: the same over a byte stream arriving in any chunks, with
//!   Core's recovery after errors;
//! - [`msg::Message::decode`]: a frame's payload as a borrowed view, or a
//!   [`PayloadError`];
//! - [`write_message`] with any [`msg::Encode`]: envelope and payload
//!   appended to a `Vec<u8>` the caller owns.
//!
//! Under `cfg(fuzzing)` (set by cargo-fuzz) checksums are not verified, so
//! the fuzzer reaches the payload decoders; nothing else changes.

pub mod addr;
mod command;
pub mod compact;
mod deframer;
mod envelope;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod hash;
mod header;
mod inv;
pub mod msg;
mod reader;
mod services;

pub use addr::{AddrEntry, AddrV2Entry, NetAddr};
pub use command::Command;
pub use deframer::{Deframer, MAX_BUFFER};
pub use envelope::{
    checksum, parse_envelope, parse_frame, parse_frame_deferring, Envelope, Frame, Status,
    ENVELOPE_SIZE, MAX_PAYLOAD_SIZE,
};
pub use error::{MessageError, PayloadError, WireError};
pub use hash::{BlockHash, ParseHashError};
pub use header::{BlockHeader, HEADER_SIZE};
pub use inv::{InvEntry, InvType};
pub use services::ServiceFlags;

use crate::network::Magic;

/// Appends one whole message (envelope then payload) to `out` and returns
/// the number of bytes appended. The length and checksum are computed from
/// the payload actually written; nothing is allocated beyond `out`'s growth.
///
/// Protocol limits (2000 headers, 4,000,000 bytes, ...) are the caller's to
/// respect: this writes what it is given.
pub fn write_message(out: &mut Vec<u8>, magic: Magic, msg: &impl msg::Encode) -> usize {
    let start = out.len();
    out.reserve(ENVELOPE_SIZE + msg.payload_len());
    out.extend_from_slice(&magic.0);
    out.extend_from_slice(&msg.command().to_bytes());
    out.extend_from_slice(&[0; 8]);
    msg.encode_payload(out);
    let payload_len = out.len() - start - ENVELOPE_SIZE;
    debug_assert_eq!(payload_len, msg.payload_len(), "payload_len disagrees with encode_payload");
    let sum = checksum(&out[start + ENVELOPE_SIZE..]);
    out[start + 16..start + 20].copy_from_slice(&(payload_len as u32).to_le_bytes());
    out[start + 20..start + 24].copy_from_slice(&sum);
    out.len() - start
}
