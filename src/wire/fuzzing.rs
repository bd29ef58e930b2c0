//! Check functions shared by the fuzz targets (fuzz/fuzz_targets/wire_*.rs,
//! one line each) and by the test that replays corpus/wire_*/ under plain
//! `cargo test`. Each takes arbitrary bytes, must never panic on its own,
//! and asserts a property; a failed assertion is a bug.
//!
//! Not part of the stable API.

use crate::network::Magic;
use crate::wire::msg::{Encode, Message};
use crate::wire::{
    parse_frame, Command, Deframer, Envelope, Status, WireError, ENVELOPE_SIZE, MAX_BUFFER,
};
use zerocopy::IntoBytes;

/// The magic the checks run under.
pub const MAGIC: Magic = Magic::MAIN;

/// Every command [`check_payloads`] can select with its first byte; the
/// last entry stands for an unknown command.
pub const PAYLOAD_COMMANDS: [Command; 20] = [
    Command::VERSION,
    Command::VERACK,
    Command::PING,
    Command::PONG,
    Command::SENDHEADERS,
    Command::WTXIDRELAY,
    Command::SENDADDRV2,
    Command::FEEFILTER,
    Command::SENDCMPCT,
    Command::GETHEADERS,
    Command::GETBLOCKS,
    Command::HEADERS,
    Command::INV,
    Command::GETDATA,
    Command::NOTFOUND,
    Command::ADDR,
    Command::ADDRV2,
    Command::GETADDR,
    Command::MEMPOOL,
    Command::from_static("block"),
];

/// Envelope: a complete frame re-encodes to its own bytes, every shorter
/// prefix is `Partial`, and errors and frames do not change when more bytes
/// follow.
pub fn check_envelope(data: &[u8]) {
    let result = parse_frame(MAGIC, data);
    match result {
        Ok(Status::Complete((frame, used))) => {
            assert_eq!(used, ENVELOPE_SIZE + frame.payload.len());
            assert!(used <= data.len());
            let mut env = Envelope::new(MAGIC, frame.command, frame.payload);
            env.checksum = frame.checksum;
            assert_eq!(env.as_bytes(), &data[..ENVELOPE_SIZE]);
            assert_eq!(&data[ENVELOPE_SIZE..used], frame.payload);
            assert_eq!(parse_frame(MAGIC, &data[..used]), result);
            for cut in [used - 1, ENVELOPE_SIZE - 1, 3] {
                if cut < used {
                    assert_eq!(parse_frame(MAGIC, &data[..cut]), Ok(Status::Partial));
                }
            }
            // Decoding the payload never panics.
            let _ = frame.decode();
        }
        Ok(Status::Partial) => {
            if let Some(env) = Envelope::view(data) {
                assert!(data.len() < ENVELOPE_SIZE + env.payload_len() as usize);
            } else {
                assert!(data.len() < ENVELOPE_SIZE);
            }
        }
        Err(e) => {
            // An error depends only on bytes already present.
            let mut longer = data.to_vec();
            longer.extend_from_slice(&[0u8; 8]);
            match parse_frame(MAGIC, &longer) {
                Err(again) => assert_eq!(again, e),
                other => panic!("error {e:?} became {other:?} with more bytes"),
            }
        }
    }
}

/// Payloads: the first byte picks a command from [`PAYLOAD_COMMANDS`], the
/// rest is its payload. A payload that decodes re-encodes to the same bytes
/// (with `sendcmpct`'s flag byte normalised to 0/1), with the length
/// `payload_len` promised, and decodes again to the same message.
pub fn check_payloads(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else { return };
    let command = PAYLOAD_COMMANDS[selector as usize % PAYLOAD_COMMANDS.len()];
    check_payload(command, payload);
}

/// [`check_payloads`] for one command and payload.
pub fn check_payload(command: Command, payload: &[u8]) {
    let Ok(message) = Message::decode(command, payload) else { return };
    assert_eq!(message.command(), command);
    let mut out = Vec::new();
    message.encode_payload(&mut out);
    assert_eq!(out.len(), message.payload_len());
    let mut expected = payload.to_vec();
    if command == Command::SENDCMPCT {
        expected[0] = u8::from(expected[0] != 0);
    }
    assert_eq!(out, expected, "{command:?} did not round-trip");
    assert_eq!(Message::decode(command, &out), Ok(message));
    walk(&message);
}

/// Touches every element of a view (the iterators must agree with `len`).
fn walk(message: &Message<'_>) {
    match message {
        Message::Headers(h) => {
            assert_eq!(h.iter().count(), h.len());
            assert_eq!(h.entries().count(), h.len());
            // `last` skips the walk when it can; a walk must agree.
            assert_eq!(h.last(), h.iter().fold(None, |_, x| Some(x)));
        }
        Message::AddrV2(a) => assert_eq!(a.iter().count(), a.len()),
        Message::Version(v) => {
            let owned = v.to_version();
            if v.relay_byte().is_some_and(|b| b <= 1) {
                let mut full = Vec::new();
                owned.encode_payload(&mut full);
                assert_eq!(Message::decode(Command::VERSION, &full), Ok(*message));
            }
        }
        _ => {}
    }
}

/// What a deframer produced: frames (copied) and errors, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A frame: command, payload, checksum.
    Frame(Command, Vec<u8>, [u8; 4]),
    /// An error, at this stream offset.
    Error(WireError, u64),
}

/// Feeds `stream` to a fresh deframer in chunks of the given sizes (cycled;
/// 0 means "all the rest"), draining frames after each, and returns every
/// event plus the end-of-stream verdict.
pub fn deframe(stream: &[u8], chunks: &[usize]) -> (Vec<Event>, Option<WireError>) {
    deframe_deferring(stream, chunks, usize::MAX)
}

/// [`deframe`] through [`Deframer::next_frame_deferring`]: frames whose
/// payload is at least `min` bytes come out unchecked and are checked with
/// [`Frame::verify`](crate::wire::Frame::verify), a failure recorded at the
/// frame's offset, as `next_frame` would have reported it.
pub fn deframe_deferring(
    stream: &[u8],
    chunks: &[usize],
    min: usize,
) -> (Vec<Event>, Option<WireError>) {
    let mut d = Deframer::new(MAGIC);
    let mut events = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < stream.len() {
        let size = chunks.get(i % chunks.len().max(1)).copied().unwrap_or(0);
        i += 1;
        let size = if size == 0 { stream.len() - pos } else { size.min(stream.len() - pos) };
        let mut chunk = &stream[pos..pos + size];
        pos += size;
        while !chunk.is_empty() {
            let n = d.push(chunk);
            chunk = &chunk[n..];
            drain(&mut d, &mut events, min);
            assert!(d.capacity() <= MAX_BUFFER);
        }
    }
    drain(&mut d, &mut events, min);
    assert_eq!(d.consumed() + d.buffered() as u64, stream.len() as u64);
    (events, d.finish())
}

fn drain(d: &mut Deframer, events: &mut Vec<Event>, min: usize) {
    loop {
        let event = match d.next_frame_deferring(min) {
            None => return,
            Some(Ok((f, checked))) => {
                assert!(checked || f.payload.len() >= min, "a small frame came out unchecked");
                let len = (ENVELOPE_SIZE + f.payload.len()) as u64;
                match if checked { Ok(()) } else { f.verify() } {
                    Ok(()) => Event::Frame(f.command, f.payload.to_vec(), f.checksum),
                    // The frame is consumed already: its offset is behind.
                    Err(e) => Event::Error(e, d.consumed() - len),
                }
            }
            // An error consumes nothing, so `consumed` is its offset.
            Some(Err(e)) => Event::Error(e, d.consumed()),
        };
        events.push(event);
    }
}

/// Deframer: the first byte says how many chunk sizes follow (each one
/// byte); the rest is the stream. Deframing it in those chunks and in one
/// piece gives the same events, and every frame matches `parse_frame` at its
/// offset.
pub fn check_deframer(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else { return };
    let n = (n as usize % 8).min(rest.len());
    let (sizes, stream) = rest.split_at(n);
    let sizes: Vec<usize> = sizes.iter().map(|&s| s as usize + 1).collect();
    let whole = deframe(stream, &[0]);
    let split = deframe(stream, &sizes);
    assert_eq!(whole, split, "chunking changed the deframer's output");
    // Deferring the checksum of frames from an input-chosen size on (the
    // sync's large `headers`) reports the same frames and errors.
    let min = sizes.first().map_or(0, |&s| (s - 1) * 64);
    let deferred = deframe_deferring(stream, &sizes, min);
    assert_eq!(whole, deferred, "deferring checksums changed the deframer's output");
    // Byte at a time is the harshest split; kept to small streams so the
    // fuzzer stays fast.
    if stream.len() <= 16 * 1024 {
        let bytewise = deframe(stream, &[1]);
        assert_eq!(whole, bytewise, "byte-at-a-time changed the deframer's output");
    }
}
