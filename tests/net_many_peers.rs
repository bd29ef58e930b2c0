//! Many real peers on the reactor: a serving engine and a syncing engine,
//! each on its own reactor thread in this process, joined by 2,000 loopback
//! connections that all finish the version handshake and then sit idle. The
//! resident memory this costs (VmRSS from /proc/self/status) stays under
//! 32 KiB per connection end (issue 6's budget per idle peer), and stopping
//! both reactors closes every connection.
//!
//! Alone in its test binary so no other test's memory is counted. Needs
//! `ulimit -n` above 4,100 (two sockets per connection in one process).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{self, Exit, PeerId, Reactor};
use bitwire::sync::{Config, Engine, Event};
use bitwire::Network;

mod support;
use support::{rss_bytes, Watched};

const PEERS: usize = 2000;
/// Issue 6: "at most 32 KiB resident memory per peer on average".
const BUDGET_PER_PEER: u64 = 32 * 1024;

/// An engine that counts handshakes and unexpected disconnects.
#[allow(clippy::type_complexity)]
fn counted(
    connect: Vec<SocketAddr>,
    seed: u64,
) -> (Watched<impl FnMut(&mut Engine, Option<PeerId>) + Send>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let mut config = Config::new(Network::Main);
    config.sync = !connect.is_empty();
    config.connect = connect;
    config.max_peers = PEERS + 16;
    config.nonce_seed = seed;
    let engine = Engine::new(config, HeaderTree::new(Params::for_network(Network::Main)), None);
    let (ready, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (r, d) = (ready.clone(), dropped.clone());
    let count = move |engine: &mut Engine, _: Option<PeerId>| {
        while let Some(e) = engine.poll_event() {
            match e {
                Event::Ready { .. } => {
                    r.fetch_add(1, Ordering::SeqCst);
                }
                Event::Disconnected { .. } | Event::ConnectFailed { .. } => {
                    d.fetch_add(1, Ordering::SeqCst);
                }
                _ => {}
            }
        }
    };
    (Watched::new(engine, count), ready, dropped)
}

#[test]
fn two_thousand_idle_peers_after_handshake_fit_the_memory_budget() {
    let config = net::Config::default()
        .max_connections(PEERS + 16)
        // Thousands of SYNs at once can overflow the listen backlog; the
        // kernel retries a dropped SYN after 1 s, 3 s, ...
        .connect_timeout(Duration::from_secs(60));
    let mut server_reactor = Reactor::new(config.clone()).unwrap();
    let addr = server_reactor.listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let (server, server_ready, server_dropped) = counted(Vec::new(), 1);
    let server = server_reactor.spawn("server", server).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let before = rss_bytes();

    let (client, client_ready, client_dropped) = counted(vec![addr; PEERS], 2);
    let client = Reactor::new(config).unwrap().spawn("client", client).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while server_ready.load(Ordering::SeqCst) < PEERS || client_ready.load(Ordering::SeqCst) < PEERS
    {
        assert!(
            Instant::now() < deadline,
            "handshakes: server {}, client {} of {PEERS}; dropped {} / {}",
            server_ready.load(Ordering::SeqCst),
            client_ready.load(Ordering::SeqCst),
            server_dropped.load(Ordering::SeqCst),
            client_dropped.load(Ordering::SeqCst),
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the last getheaders / headers exchange finish.
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_bytes();
    assert_eq!(server_dropped.load(Ordering::SeqCst), 0);
    assert_eq!(client_dropped.load(Ordering::SeqCst), 0);

    let (client, exit, stats) = client.stop().unwrap();
    assert_eq!(exit, Exit::Interrupted);
    assert_eq!((stats.connected, stats.peak_connections), (PEERS as u64, PEERS));
    assert_eq!(client.engine.peer_count(), 0, "every connection closed at shutdown");
    let (server, _, stats) = server.stop().unwrap();
    assert_eq!(stats.accepted, PEERS as u64);
    assert_eq!(server.engine.ready_count(), 0);

    // Both ends of every connection live in this process.
    let per_end = after.saturating_sub(before) / (2 * PEERS as u64);
    eprintln!("{PEERS} connections: RSS {before} -> {after} bytes, {per_end} bytes per peer");
    assert!(per_end <= BUDGET_PER_PEER, "{per_end} bytes per idle peer");
}
