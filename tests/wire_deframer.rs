//! The deframer under hostile streams: its buffer stays bounded, garbage is
//! not kept, and a maximal honest message still gets through.

use bitwire::wire::msg::Message;
use bitwire::wire::{write_message, Command, Deframer, WireError, MAX_BUFFER, MAX_PAYLOAD_SIZE};
use bitwire::Magic;

#[test]
fn maximal_message_passes_within_the_bound() {
    let payload = vec![0xabu8; MAX_PAYLOAD_SIZE];
    let mut stream = Vec::new();
    let unknown = Message::Unknown { command: Command::new("block").unwrap(), payload: &payload };
    write_message(&mut stream, Magic::MAIN, &unknown);
    write_message(&mut stream, Magic::MAIN, &bitwire::wire::msg::Ping(7));
    let mut d = Deframer::new(Magic::MAIN);
    let mut frames = Vec::new();
    for chunk in stream.chunks(65_536) {
        let mut chunk = chunk;
        while !chunk.is_empty() {
            let n = d.push(chunk);
            chunk = &chunk[n..];
            while let Some(f) = d.next_frame() {
                let f = f.unwrap();
                frames.push((f.command, f.payload.len()));
            }
            assert!(d.capacity() <= MAX_BUFFER);
        }
    }
    assert_eq!(frames, [(Command::new("block").unwrap(), MAX_PAYLOAD_SIZE), (Command::PING, 8)]);
    assert_eq!(d.finish(), None);
}

#[test]
fn declared_size_is_not_reserved_up_front() {
    // A header promising 4,000,000 bytes, then a trickle: memory follows the
    // bytes that actually arrived, not the declared length.
    let mut d = Deframer::new(Magic::MAIN);
    let mut header = Vec::new();
    header.extend_from_slice(&Magic::MAIN.0);
    header.extend_from_slice(&Command::new("block").unwrap().to_bytes());
    header.extend_from_slice(&(MAX_PAYLOAD_SIZE as u32).to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    assert_eq!(d.push(&header), 24);
    for _ in 0..1000 {
        assert_eq!(d.push(&[0]), 1);
        assert!(d.next_frame().is_none());
    }
    assert!(d.capacity() <= 4096, "grew to {}", d.capacity());
    assert!(matches!(
        d.finish(),
        Some(WireError::Truncated { needed: 4_000_024, available: 1024 })
    ));
}

#[test]
fn garbage_is_discarded_not_buffered() {
    let mut d = Deframer::new(Magic::MAIN);
    let garbage = vec![0x55u8; 1 << 20];
    let mut errors = 0;
    for _ in 0..10 {
        let mut g = &garbage[..];
        while !g.is_empty() {
            let n = d.push(g);
            g = &g[n..];
            while let Some(r) = d.next_frame() {
                assert!(matches!(r, Err(WireError::BadMagic { .. })));
                errors += 1;
            }
            assert!(d.buffered() <= 3);
        }
    }
    // One error for the whole run of garbage, then silent resynchronisation.
    assert_eq!(errors, 1);
    assert!(d.capacity() <= 4096, "grew to {}", d.capacity());
    assert_eq!(d.discarded() + d.buffered() as u64, 10 << 20);
    assert_eq!(d.finish(), None);
}

#[test]
fn oversized_length_resyncs_on_the_next_magic() {
    let mut stream = Vec::new();
    stream.extend_from_slice(&Magic::MAIN.0);
    stream.extend_from_slice(&Command::PING.to_bytes());
    stream.extend_from_slice(&u32::MAX.to_le_bytes());
    stream.extend_from_slice(&[0; 4]);
    write_message(&mut stream, Magic::MAIN, &bitwire::wire::msg::Verack);
    let mut d = Deframer::new(Magic::MAIN);
    d.push(&stream);
    assert_eq!(d.next_frame().unwrap(), Err(WireError::OversizedPayload { declared: u32::MAX }));
    assert_eq!(d.next_frame().unwrap().unwrap().command, Command::VERACK);
    assert_eq!(d.discarded(), 24);
}
