//! Replays every seed of the `sync_engine` fuzz target under plain
//! `cargo test`, plus a few thousand pseudo-random programs, through the
//! same harness (which asserts the engine's invariants after every step).

use bitwire::peer::{splitmix64, DisconnectReason};
use bitwire::sync::{fuzzing, Event};
use bitwire::wire::{BlockHeader, HEADER_SIZE};

fn chain() -> Vec<BlockHeader> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).unwrap();
    bytes[..2100 * HEADER_SIZE]
        .chunks_exact(HEADER_SIZE)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect()
}

#[test]
fn replays_sync_engine_corpus() {
    let chain = chain();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/sync_engine");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        fuzzing::run(&data, &chain);
        n += 1;
    }
    assert!(n >= 6, "seeds missing: {n}");
}

fn events(name: &str, chain: &[BlockHeader]) -> Vec<Event> {
    let path = format!("{}/corpus/sync_engine/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut e = fuzzing::run_engine(&std::fs::read(path).unwrap(), chain);
    std::iter::from_fn(|| e.poll_event()).collect()
}

#[test]
fn seeds_reach_the_protocol() {
    let chain = chain();
    let ev = events("inbound_handshake_getheaders", &chain);
    assert!(ev.iter().any(|e| matches!(e, Event::Ready { .. })), "{ev:?}");
    assert!(ev.iter().any(|e| matches!(e, Event::Served { count: 99, .. })), "{ev:?}");
    let ev = events("outbound_handshake_headers", &chain);
    assert!(ev.iter().any(|e| matches!(e, Event::Headers { .. })), "{ev:?}");
    let ev = events("hostile_after_verack", &chain);
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::Disconnected { reason: DisconnectReason::NegotiationAfterVerack { .. }, .. }
        )),
        "{ev:?}"
    );
    let ev = events("timeouts", &chain);
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::Disconnected { reason: DisconnectReason::HandshakeTimeout { .. }, .. }
        )),
        "{ev:?}"
    );
}

#[test]
fn random_programs_keep_invariants() {
    let chain = chain();
    let mut state = 1u64;
    for _ in 0..300 {
        let len = (splitmix64(state) % 400) as usize;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                state = splitmix64(state);
                state as u8
            })
            .collect();
        fuzzing::run(&data, &chain);
    }
}
