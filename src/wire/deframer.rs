//! The stream deframer: bytes in, in any chunks; checked frames out.
//!
//! The deframer owns one buffer, grown by doubling only as bytes actually
//! arrive (a declared length is never reserved up front) and never beyond
//! [`MAX_BUFFER`]: one maximal message. A reactor reads straight into
//! [`Deframer::read_buf`] and reports [`Deframer::filled`]; tests and the CLI
//! use [`Deframer::push`]. Once the buffer has grown to the largest message
//! seen, deframing allocates nothing.
//!
//! Frames and errors come out of [`Deframer::next_frame`] in stream order,
//! the same whatever the chunk boundaries. An error consumes nothing when it
//! is returned ([`Deframer::consumed`] is then the offending offset); the
//! next call recovers as Bitcoin Core's `V1Transport` would:
//! - bad checksum, bad command: the frame is well delimited, so exactly its
//!   24 + length bytes are skipped (Core drops such a message and carries on);
//! - bad magic, oversized payload: the stream cannot be trusted, so bytes are
//!   discarded up to the next occurrence of the magic, found with
//!   `memchr::memmem` (Core disconnects; a reactor should too).

use memchr::memmem;

use crate::network::Magic;
use crate::wire::envelope::{parse_envelope, parse_frame};
use crate::wire::{Frame, Status, WireError, ENVELOPE_SIZE, MAX_PAYLOAD_SIZE};

/// The largest the deframer's buffer grows: one envelope plus a maximal payload.
pub const MAX_BUFFER: usize = ENVELOPE_SIZE + MAX_PAYLOAD_SIZE;

/// Size of the first allocation.
const INITIAL_BUFFER: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recovery {
    None,
    /// Discard this many bytes (possibly not yet received).
    Skip(usize),
    /// Discard one byte, then everything before the next magic.
    Resync,
}

/// Turns a byte stream into frames. See the module docs.
#[derive(Debug)]
pub struct Deframer {
    magic: Magic,
    /// Storage; `buf[start..end]` is received and not yet consumed.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    recovery: Recovery,
    /// Resync found no magic yet: keep discarding.
    searching: bool,
    consumed: u64,
    discarded: u64,
}

impl Deframer {
    /// A deframer for one network's magic. Allocates nothing until bytes arrive.
    pub fn new(magic: Magic) -> Deframer {
        Deframer {
            magic,
            buf: Vec::new(),
            start: 0,
            end: 0,
            recovery: Recovery::None,
            searching: false,
            consumed: 0,
            discarded: 0,
        }
    }

    /// Bytes received and not yet consumed.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Stream bytes consumed so far (frames plus discarded bytes). Right after
    /// an error this is the error's offset; right after a frame, its end.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Stream bytes discarded by error recovery so far.
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// The size of the buffer currently allocated.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Whether the stream could end here cleanly: no partial frame is
    /// buffered. Bytes still being skipped or searched after an error count
    /// as discarded garbage, not as a partial frame.
    pub fn at_boundary(&self) -> bool {
        self.buffered() == 0 || self.searching || matches!(self.recovery, Recovery::Resync)
    }

    /// Call at end of stream: the error for a message cut short, if any.
    pub fn finish(&self) -> Option<WireError> {
        if self.at_boundary() {
            return None;
        }
        if let Recovery::Skip(n) = self.recovery {
            return (n > self.buffered())
                .then_some(WireError::Truncated { needed: n, available: self.buffered() });
        }
        let data = &self.buf[self.start..self.end];
        let needed = match parse_envelope(self.magic, data) {
            Ok(Status::Complete(env)) => ENVELOPE_SIZE + env.payload_len() as usize,
            _ => ENVELOPE_SIZE,
        };
        Some(WireError::Truncated { needed, available: data.len() })
    }

    /// Free space to read into, growing or compacting the buffer if it is
    /// full. Empty only when a complete frame waits in a full buffer: call
    /// [`Deframer::next_frame`] first.
    pub fn read_buf(&mut self) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() && self.buf.len() < MAX_BUFFER {
                let grown = (self.buf.len() * 2).clamp(INITIAL_BUFFER, MAX_BUFFER);
                self.buf.resize(grown, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Records that `n` bytes were written at the front of the last
    /// [`Deframer::read_buf`] (clamped to its length).
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Copies as much of `bytes` as fits in the free space of
    /// [`Deframer::read_buf`] and returns how many were taken. Call
    /// [`Deframer::next_frame`] until `None`, then push the rest: the buffer
    /// only grows when a message needs it, never to hold a whole chunk of
    /// garbage.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let space = self.read_buf();
        let n = space.len().min(bytes.len());
        space[..n].copy_from_slice(&bytes[..n]);
        self.filled(n);
        n
    }

    fn discard(&mut self, n: usize) {
        self.start += n;
        self.consumed += n as u64;
        self.discarded += n as u64;
    }

    /// Applies pending recovery; false if more bytes are needed first.
    fn recover(&mut self) -> bool {
        match self.recovery {
            Recovery::None => {}
            Recovery::Skip(n) => {
                let k = n.min(self.buffered());
                self.discard(k);
                if k < n {
                    self.recovery = Recovery::Skip(n - k);
                    return false;
                }
                self.recovery = Recovery::None;
            }
            Recovery::Resync => {
                if self.buffered() == 0 {
                    return false;
                }
                self.discard(1);
                self.recovery = Recovery::None;
                self.searching = true;
            }
        }
        if self.searching {
            let data = &self.buf[self.start..self.end];
            match memmem::find(data, &self.magic.0) {
                Some(at) => {
                    self.discard(at);
                    self.searching = false;
                }
                None => {
                    // Keep a tail that may be the start of a magic.
                    let keep = data.len().min(self.magic.0.len() - 1);
                    self.discard(data.len() - keep);
                    return false;
                }
            }
        }
        true
    }

    /// The next frame or error, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, WireError>> {
        if !self.recover() {
            return None;
        }
        let data = &self.buf[self.start..self.end];
        match parse_frame(self.magic, data) {
            Ok(Status::Partial) => None,
            Ok(Status::Complete((frame, used))) => {
                let (command, checksum) = (frame.command, frame.checksum);
                let at = self.start;
                self.start += used;
                self.consumed += used as u64;
                let payload = &self.buf[at + ENVELOPE_SIZE..at + used];
                Some(Ok(Frame { command, payload, checksum }))
            }
            Err(e) => {
                self.recovery = match e {
                    WireError::BadChecksum { .. } | WireError::BadCommand { .. } => {
                        let len = Envelope::view(data).map_or(0, |env| env.payload_len() as usize);
                        Recovery::Skip(ENVELOPE_SIZE + len)
                    }
                    _ => Recovery::Resync,
                };
                Some(Err(e))
            }
        }
    }
}

use crate::wire::Envelope;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Command;

    const VERACK: &str = "f9beb4d976657261636b000000000000000000005df6e0e2";

    #[test]
    fn garbage_then_frame_resyncs() {
        let mut stream = b"garbage!".to_vec();
        stream.extend(hex::decode(VERACK).unwrap());
        let mut d = Deframer::new(Magic::MAIN);
        assert_eq!(d.push(&stream), stream.len());
        assert!(
            matches!(d.next_frame(), Some(Err(WireError::BadMagic { found, .. })) if &found == b"garb")
        );
        assert_eq!(d.consumed(), 0);
        let f = d.next_frame().unwrap().unwrap();
        assert_eq!(f.command, Command::VERACK);
        assert_eq!(d.discarded(), 8);
        assert_eq!(d.consumed(), stream.len() as u64);
        assert!(d.next_frame().is_none());
        assert_eq!(d.finish(), None);
    }

    #[test]
    fn cut_frame_is_truncated_at_end() {
        let bytes = hex::decode(VERACK).unwrap();
        let mut d = Deframer::new(Magic::MAIN);
        d.push(&bytes[..10]);
        assert!(d.next_frame().is_none());
        assert_eq!(d.finish(), Some(WireError::Truncated { needed: 24, available: 10 }));
    }
}
