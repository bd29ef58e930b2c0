//! The steady-state sync path allocates nothing per message: a counting
//! global allocator watches the engine take 2000-header answers (deframe,
//! decode, batch-hash, validate, extend the tree, ask the next peer).
//!
//! The only allocations allowed are the header tree's own amortised growth
//! (its entry vector and hash index double now and then as the chain grows:
//! O(log n) in all, not per message).

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{Io, PeerId, Service};
use bitwire::sync::sim::{Sim, START};
use bitwire::sync::{Config, Engine};
use bitwire::wire::msg::Headers;
use bitwire::wire::{write_message, BlockHeader, HEADER_SIZE};
use bitwire::Network;

mod support;
use support::{handshake_with_server, Counting};

// Counts per thread: the sim runs on the test's own thread, so the harness's
// threads cannot add allocations of their own.
#[global_allocator]
static GLOBAL: Counting = Counting::new();

#[test]
fn steady_state_sync_allocates_nothing_per_message() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).unwrap();
    let headers: Vec<BlockHeader> = bytes
        .chunks_exact(HEADER_SIZE)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect();
    let magic = Network::Main.magic();
    // Every answer prepared up front: 19 full batches.
    let answers: Vec<Vec<u8>> = headers[1..38_001]
        .chunks(2000)
        .map(|c| {
            let mut m = Vec::new();
            write_message(&mut m, magic, &Headers(c));
            m
        })
        .collect();

    let mut config = Config::new(Network::Main);
    config.connect = vec![Sim::addr_of(0)];
    let mut e = Engine::new(config, HeaderTree::new(Params::for_network(Network::Main)), None);
    let peer = PeerId(1);
    let now = START;
    handshake_with_server(&mut e, peer, now);

    let step = |e: &mut Engine, msg: &[u8]| {
        // As a reactor does: bytes in (in 64 KiB reads), drain instructions,
        // write out, tick when due (a full batch is validated then, after
        // the request asked ahead from it went out), drain events.
        for chunk in msg.chunks(64 * 1024) {
            e.received(peer, chunk, now);
        }
        while let Some(io) = e.next_io() {
            assert!(matches!(io, Io::Write(_) | Io::Connect(_)), "{io:?}");
        }
        let n = e.pending_output(peer).len();
        e.written(peer, n);
        if e.next_wakeup().is_some_and(|t| t <= now) {
            e.tick(now);
        }
        while e.poll_event().is_some() {}
    };
    // Warm-up: buffers grow to their working size.
    for a in &answers[..3] {
        step(&mut e, a);
    }
    assert_eq!(e.height(), 6000);
    let before_tree = e.tree().heap_bytes();
    let start = GLOBAL.allocations();
    for a in &answers[3..] {
        step(&mut e, a);
    }
    let allocs = GLOBAL.allocations() - start;
    let messages = answers.len() - 3;
    assert_eq!(e.height(), 38_000);
    assert!(e.tree().heap_bytes() > before_tree);

    // The same batches into a bare tree: its own amortised growth is the
    // baseline. The engine must add nothing to it.
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    let mut hashes = Vec::with_capacity(2000);
    for c in headers[1..6001].chunks(2000) {
        tree.accept(c, now.as_secs()).unwrap();
    }
    let start = GLOBAL.allocations();
    for c in headers[6001..38_001].chunks(2000) {
        hashes.clear();
        bitwire::pow::hash_headers(c, &mut hashes);
        tree.accept_hashed(c, &hashes, now.as_secs()).unwrap();
    }
    let baseline = GLOBAL.allocations() - start;
    eprintln!("engine: {allocs} allocations over {messages} messages; bare tree: {baseline}");
    assert_eq!(allocs, baseline, "the engine allocated per message");
    assert!(baseline < messages, "tree growth is amortised, not per message");
}
