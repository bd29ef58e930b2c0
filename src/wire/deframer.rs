//! The stream deframer: bytes in, in any chunks; checked frames out.
//!
//! The deframer owns one buffer, grown by doubling only as bytes actually
//! arrive (a declared length is never reserved up front) and never beyond
//! its limit: [`MAX_BUFFER`] (one maximal message) by default, less with
//! [`Deframer::with_max_buffer`]. A reactor reads straight into
//! [`Deframer::read_buf`] and reports [`Deframer::filled`]; tests and the CLI
//! use [`Deframer::push`]. Once the buffer has grown to the largest message
//! seen, deframing allocates nothing; [`Deframer::shrink`] gives the memory
//! back when the stream goes quiet, at any point of the stream (a message
//! being skipped or a resync in progress carries on where it was).
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
use crate::wire::envelope::{parse_envelope, parse_frame_deferring};
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
    /// The buffer never grows beyond this many bytes.
    limit: usize,
    recovery: Recovery,
    /// Resync found no magic yet: keep discarding.
    searching: bool,
    consumed: u64,
    discarded: u64,
}

impl Deframer {
    /// A deframer for one network's magic. Allocates nothing until bytes arrive.
    pub fn new(magic: Magic) -> Deframer {
        Deframer::with_max_buffer(magic, MAX_BUFFER)
    }

    /// A deframer whose buffer never grows beyond `limit` bytes (clamped to
    /// `ENVELOPE_SIZE..=MAX_BUFFER`). A frame longer than that can never
    /// complete: the buffer fills, [`Deframer::read_buf`] comes back empty
    /// and [`Deframer::buffered`] equals the limit, which is the caller's cue
    /// to give up on the stream (the peer layer drops such a peer for a
    /// message over its input budget). Allocates nothing until bytes arrive.
    pub fn with_max_buffer(magic: Magic, limit: usize) -> Deframer {
        Deframer {
            magic,
            buf: Vec::new(),
            start: 0,
            end: 0,
            limit: limit.clamp(ENVELOPE_SIZE, MAX_BUFFER),
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

    /// The most the buffer may grow to (see [`Deframer::with_max_buffer`]).
    pub fn max_buffer(&self) -> usize {
        self.limit
    }

    /// Releases buffer memory beyond `keep` bytes (or beyond what is
    /// buffered, if that is more): the unconsumed bytes move to the front and
    /// the allocation shrinks. Nothing about the stream changes: offsets,
    /// frames still to come, and error recovery in progress (the rest of a
    /// bad-checksum message still being skipped, a search for the next
    /// magic) go on exactly as without the call. `shrink(0)` on an empty
    /// deframer frees the buffer entirely.
    ///
    /// The buffer keeps the size of the largest message seen (up to 4 MB);
    /// call this when the peer goes quiet.
    pub fn shrink(&mut self, keep: usize) {
        let n = self.buffered();
        let size = keep.max(n);
        if self.buf.len() <= size {
            return;
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.start = 0;
        self.end = n;
        self.buf.truncate(size);
        self.buf.shrink_to_fit();
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
            if self.end == self.buf.len() && self.buf.len() < self.limit {
                let grown = (self.buf.len() * 2).max(INITIAL_BUFFER).min(self.limit);
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
        Some(self.next_frame_deferring(usize::MAX)?.map(|(frame, _)| frame))
    }

    /// [`Deframer::next_frame`], except that a frame whose payload is at
    /// least `min` bytes comes out before its checksum is checked, with
    /// `false` (checked frames: `true`): the caller must [`Frame::verify`]
    /// it before acting on it, and treat a failure as `next_frame` would
    /// have returned it. The stream goes on the same either way (a frame
    /// with a bad checksum is skipped whole).
    pub fn next_frame_deferring(
        &mut self,
        min: usize,
    ) -> Option<Result<(Frame<'_>, bool), WireError>> {
        if !self.recover() {
            return None;
        }
        let data = &self.buf[self.start..self.end];
        match parse_frame_deferring(self.magic, data, min) {
            Ok(Status::Partial) => None,
            Ok(Status::Complete((frame, used, checked))) => {
                let (command, checksum) = (frame.command, frame.checksum);
                let at = self.start;
                self.start += used;
                self.consumed += used as u64;
                let payload = &self.buf[at + ENVELOPE_SIZE..at + used];
                Some(Ok((Frame { command, payload, checksum }, checked)))
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

    fn ping(nonce: u64) -> Vec<u8> {
        let mut out = Vec::new();
        crate::wire::write_message(&mut out, Magic::MAIN, &crate::wire::msg::Ping(nonce));
        out
    }

    #[test]
    fn shrink_releases_memory_and_keeps_the_stream() {
        let mut d = Deframer::new(Magic::MAIN);
        // A large valid message grows the buffer.
        let mut stream = Vec::new();
        let zero = crate::wire::BlockHeader::from_array(&[0; 80]);
        crate::wire::write_message(
            &mut stream,
            Magic::MAIN,
            &crate::wire::msg::Headers(&[zero; 2000]),
        );
        let first = stream.len();
        // Then a message with a bad command, declared 150,000 bytes long, of
        // which 100,000 have arrived: the deframer is skipping it.
        let mut bad = ping(1);
        bad[4..16].copy_from_slice(b"bad\x01cmd\0\0\0\0\0");
        bad.truncate(24);
        bad[16..20].copy_from_slice(&150_000u32.to_le_bytes());
        bad.resize(24 + 150_000, 0x55);
        stream.extend_from_slice(&bad);
        stream.extend(ping(9));
        let arrived = first + 24 + 100_000;
        let mut events = Vec::new();
        let mut feed = |d: &mut Deframer, mut bytes: &[u8]| {
            while !bytes.is_empty() {
                let n = d.push(bytes);
                bytes = &bytes[n..];
                while let Some(f) = d.next_frame() {
                    events.push(f.map(|f| f.command).map_err(|e| e.name()));
                }
            }
        };
        feed(&mut d, &stream[..arrived]);
        assert!(d.capacity() >= first, "{}", d.capacity());
        assert_eq!(d.buffered(), 0, "the bad message's bytes so far are discarded");
        d.shrink(0);
        assert_eq!(d.capacity(), 0);
        feed(&mut d, &stream[arrived..]);
        assert_eq!(
            events,
            [Ok(Command::HEADERS), Err("bad-command"), Ok(Command::PING)],
            "the skip went on across the shrink"
        );
        assert_eq!(d.consumed(), stream.len() as u64);
        assert!(d.capacity() < 8192, "{}", d.capacity());
    }

    #[test]
    fn shrink_in_the_middle_of_a_frame_keeps_it() {
        let stream = ping(7);
        let mut d = Deframer::new(Magic::MAIN);
        d.push(&stream[..30]);
        assert!(d.next_frame().is_none());
        d.shrink(0);
        assert_eq!(d.capacity(), 30);
        d.push(&stream[30..]);
        assert_eq!(d.next_frame().unwrap().unwrap().command, Command::PING);
    }

    #[test]
    fn the_buffer_stops_at_its_limit() {
        let mut d = Deframer::with_max_buffer(Magic::MAIN, 10_000);
        let mut big = Vec::new();
        crate::wire::write_message(
            &mut big,
            Magic::MAIN,
            &crate::wire::msg::Headers(&[crate::wire::BlockHeader::from_array(&[0; 80]); 200]),
        );
        let mut taken = 0;
        loop {
            let n = d.push(&big[taken..]);
            assert!(d.next_frame().is_none());
            if n == 0 {
                break;
            }
            taken += n;
        }
        assert_eq!(taken, 10_000, "full: nothing more is taken");
        assert_eq!((d.capacity(), d.buffered(), d.max_buffer()), (10_000, 10_000, 10_000));
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
