//! End-to-end loopback header sync racing plain validation of the same
//! headers: a million regtest headers (mined at regtest's minimum difficulty
//! by `bitwire::chain::mine`) synced over TCP on 127.0.0.1 through the mio
//! reactor and the sync engine (framing, checksums, batched hashing, every
//! header rule, the tree), from 1 and from 8 serving peers, against
//! `HeaderTree::accept` on the same headers in the same 2000-header batches
//! with no network at all: the sync's ceiling.
//!
//! The serving side is one engine on one reactor thread listening on eight
//! addresses (one per peer the syncing side dials), so on a 2-core machine
//! one core serves and one syncs.
//!
//! `cargo bench --bench net_sync -- --warm-up-time 1 --measurement-time 3`

use std::net::SocketAddr;

use bitwire::chain::mine::mine_chain;
use bitwire::chain::{HeaderTree, Params};
use bitwire::net::{self, Exit, Reactor, Running};
use bitwire::pow::hash_headers;
use bitwire::sync::{Config, Engine, MAX_HEADERS_RESULTS};
use bitwire::wire::BlockHeader;
use bitwire::Network;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const HEADERS: usize = 1_000_000;
/// The clock the header rules see: after the mined chain's last time.
const NOW: u64 = 2_000_000_000;

fn chain(params: &Params) -> Vec<BlockHeader> {
    mine_chain(params, &params.genesis(), HEADERS, 1, 0xb7)
}

/// One serving engine holding `headers`, listening on `listeners` loopback
/// addresses.
fn server(
    params: &Params,
    headers: &[BlockHeader],
    listeners: usize,
) -> (Running<Engine>, Vec<SocketAddr>) {
    let mut tree = HeaderTree::new(params);
    let mut hashes = Vec::with_capacity(headers.len());
    hash_headers(headers, &mut hashes);
    tree.extend_trusted(headers, &hashes).expect("mined chain links");
    let mut config = Config::new(params.network);
    config.sync = false;
    config.nonce_seed = 1;
    let mut reactor = Reactor::new(net::Config::default()).expect("reactor");
    let addrs = (0..listeners)
        .map(|_| reactor.listen("127.0.0.1:0".parse().unwrap()).expect("listen"))
        .collect();
    let engine = Engine::new(config, tree, None);
    (reactor.spawn("bench-server", engine).expect("spawn"), addrs)
}

/// Syncs a fresh tree from `addrs` to the end; returns the height reached.
fn sync(params: &Params, addrs: &[SocketAddr], seed: u64) -> u32 {
    let mut config = Config::new(params.network);
    config.connect = addrs.to_vec();
    config.serve = false;
    config.stop_when_synced = true;
    config.nonce_seed = seed;
    let mut engine = Engine::new(config, HeaderTree::new(params), None);
    let (exit, _) = Reactor::new(net::Config::default())
        .expect("reactor")
        .run(&mut engine)
        .expect("sync reactor");
    assert_eq!(exit, Exit::Stopped);
    engine.height()
}

fn loopback_sync(c: &mut Criterion) {
    let params = Params::for_network(Network::Regtest);
    let headers = chain(params);
    assert_eq!(headers.len(), HEADERS, "mining stopped early");
    let (server, addrs) = server(params, &headers, 8);

    let mut g = c.benchmark_group("sync_1m_regtest_headers");
    g.throughput(Throughput::Elements(HEADERS as u64));
    g.sample_size(10);

    // The ceiling: the same rules on the same batches, no sockets.
    g.bench_function("validate_only", |b| {
        b.iter(|| {
            let mut tree = HeaderTree::new(params);
            for batch in headers.chunks(MAX_HEADERS_RESULTS) {
                tree.accept(batch, NOW).expect("mined chain is valid");
            }
            assert_eq!(tree.tip().height as usize, HEADERS);
        })
    });
    let mut seed = 100;
    for peers in [1usize, 8] {
        g.bench_function(format!("loopback_sync_{peers}_peers"), |b| {
            b.iter(|| {
                seed += 1;
                assert_eq!(sync(params, &addrs[..peers], seed) as usize, HEADERS);
            })
        });
    }
    g.finish();
    server.stop().expect("server");
}

criterion_group!(benches, loopback_sync);
criterion_main!(benches);
