//! Property tests: the deframer yields the same frames and errors whatever
//! the chunk boundaries, and the fuzz checks hold on arbitrary bytes.

use bitwire::wire::fuzzing::{self, deframe, deframe_deferring, Event};
use bitwire::wire::{parse_frame, Command, Status, WireError};
use bitwire::Magic;
use proptest::prelude::*;

fn capture() -> Vec<Vec<u8>> {
    let path =
        format!("{}/corpus/vectors/p2p/bitcore_p2p_connection.log", env!("CARGO_MANIFEST_DIR"));
    let log = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    while let Ok(Status::Complete((_, used))) = parse_frame(Magic::MAIN, &log[at..]) {
        out.push(log[at..at + used].to_vec());
        at += used;
    }
    out
}

/// A piece of a stream: a real message, or something broken.
#[derive(Clone, Debug)]
enum Piece {
    Real(usize),
    Garbage(Vec<u8>),
    BadChecksum(usize),
    Oversized,
    BadCommand,
}

fn arb_piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        6 => (0usize..24).prop_map(Piece::Real),
        1 => prop::collection::vec(any::<u8>(), 1..40).prop_map(Piece::Garbage),
        1 => (0usize..24).prop_map(Piece::BadChecksum),
        1 => Just(Piece::Oversized),
        1 => Just(Piece::BadCommand),
    ]
}

fn build(pieces: &[Piece], real: &[Vec<u8>]) -> Vec<u8> {
    let mut s = Vec::new();
    for p in pieces {
        match p {
            Piece::Real(i) => s.extend_from_slice(&real[*i]),
            Piece::Garbage(g) => s.extend_from_slice(g),
            Piece::BadChecksum(i) => {
                let mut m = real[*i].clone();
                m[20] ^= 0xff;
                s.extend_from_slice(&m);
            }
            Piece::Oversized => {
                let mut m = real[1].clone();
                m[16..20].copy_from_slice(&4_000_001u32.to_le_bytes());
                s.extend_from_slice(&m);
            }
            Piece::BadCommand => {
                let mut m = real[1].clone();
                m[4] = 0x07;
                s.extend_from_slice(&m);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any chunking gives the same events as one big chunk; every real
    /// message placed after a clean boundary comes out intact.
    #[test]
    fn chunk_split_invariance(
        pieces in prop::collection::vec(arb_piece(), 1..12),
        chunks in prop::collection::vec(1usize..3000, 1..8),
    ) {
        let real = capture();
        let stream = build(&pieces, &real);
        let whole = deframe(&stream, &[0]);
        let split = deframe(&stream, &chunks);
        prop_assert_eq!(&whole, &split);
        let frames = whole.0.iter().filter(|e| matches!(e, Event::Frame(..))).count();
        let clean = pieces.iter().all(|p| matches!(p, Piece::Real(_)));
        if clean {
            prop_assert_eq!(frames, pieces.len());
            prop_assert_eq!(whole.1, None);
        }
        // Every frame the deframer yields is one of the real messages.
        for e in &whole.0 {
            if let Event::Frame(cmd, payload, _) = e {
                prop_assert!(real.iter().any(|m| m[24..] == payload[..] && m[4..16] == cmd.to_bytes()));
            }
        }
    }

    /// Checking the checksums of large frames after they come out
    /// (`Deframer::next_frame_deferring`, the sync's `headers` path) gives
    /// the same frames and the same errors at the same offsets, bad
    /// checksums included, whatever the size from which checks are deferred.
    #[test]
    fn deferred_checksums_change_nothing(
        pieces in prop::collection::vec(arb_piece(), 1..12),
        chunks in prop::collection::vec(1usize..3000, 1..8),
        min in 0usize..200,
    ) {
        let real = capture();
        let stream = build(&pieces, &real);
        let checked = deframe(&stream, &chunks);
        let deferred = deframe_deferring(&stream, &chunks, min);
        prop_assert_eq!(&checked, &deferred);
    }

    /// A corrupted checksum costs exactly that message, like Core.
    #[test]
    fn bad_checksum_drops_one_message(i in 0usize..24, j in 0usize..24) {
        let real = capture();
        let stream = build(&[Piece::BadChecksum(i), Piece::Real(j)], &real);
        let (events, end) = deframe(&stream, &[512]);
        prop_assert_eq!(events.len(), 2);
        let bad = matches!(events[0], Event::Error(WireError::BadChecksum { .. }, 0));
        prop_assert!(bad);
        let is_frame = matches!(events[1], Event::Frame(..));
        prop_assert!(is_frame);
        prop_assert_eq!(end, None);
    }

    #[test]
    fn envelope_check_holds(data in prop::collection::vec(any::<u8>(), 0..200)) {
        fuzzing::check_envelope(&data);
    }

    #[test]
    fn payload_check_holds(cmd in 0u8..20, data in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut input = vec![cmd];
        input.extend(data);
        fuzzing::check_payloads(&input);
    }

    #[test]
    fn deframer_check_holds(data in prop::collection::vec(any::<u8>(), 0..300)) {
        fuzzing::check_deframer(&data);
    }

    /// Commands: exactly Core's rule (printable then NULs), at least one byte.
    #[test]
    fn command_rule(bytes in any::<[u8; 12]>()) {
        let core_rule = {
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(12);
            end > 0 && bytes[..end].iter().all(|b| (0x20..=0x7e).contains(b))
                && bytes[end..].iter().all(|&b| b == 0)
        };
        prop_assert_eq!(Command::from_bytes(bytes).is_ok(), core_rule);
    }
}
