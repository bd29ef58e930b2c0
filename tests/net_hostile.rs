//! Slow and stuck peers over real sockets: a serving engine on the reactor
//! (handshake timeout cut to 1 s) is held by a peer that sends nothing, one
//! that sends its `version` a byte at a time (slowloris) and one that sends
//! `version` but never `verack`, while an honest peer syncs the whole chain
//! from it. The reactor's timers drive the engine's timeouts: each attacker
//! is dropped with the handshake timeout as its reason, and the honest sync
//! completes untouched.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{self, Exit, Reactor, Time};
use bitwire::peer::DisconnectReason;
use bitwire::sync::{Config, Engine};
use bitwire::wire::msg::Version;
use bitwire::wire::{write_message, NetAddr, ServiceFlags};
use bitwire::Network;

mod support;
use support::{bundled_tree, record_disconnects, spawn_on_loopback, Watched};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);

fn version() -> Vec<u8> {
    let mut out = Vec::new();
    write_message(
        &mut out,
        Network::Main.magic(),
        &Version {
            version: 70016,
            services: ServiceFlags(ServiceFlags::NETWORK.0 | ServiceFlags::WITNESS.0),
            timestamp: Time::now().as_secs() as i64,
            receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
            sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
            nonce: 7,
            user_agent: b"/slow:0/",
            start_height: 0,
            relay: false,
        },
    );
    out
}

/// Connects and runs `script` on the socket; returns our local address (the
/// server's name for us) and, on the thread's join, how long until the
/// server closed the connection.
fn attack(
    server: SocketAddr,
    script: impl FnOnce(&mut TcpStream) + Send + 'static,
) -> (SocketAddr, std::thread::JoinHandle<Duration>) {
    let mut s = TcpStream::connect(server).unwrap();
    let local = s.local_addr().unwrap();
    let start = Instant::now();
    let thread = std::thread::spawn(move || {
        script(&mut s);
        // Then wait for the server to hang up (reads anything it sends).
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        start.elapsed()
    });
    (local, thread)
}

#[test]
fn slow_and_stuck_peers_are_timed_out_while_an_honest_sync_completes() {
    let mut config = Config::new(Network::Main);
    config.sync = false;
    config.handshake_timeout = HANDSHAKE_TIMEOUT;
    config.nonce_seed = 11;
    let gone = Arc::new(Mutex::new(Vec::new()));
    let server =
        Watched::new(Engine::new(config, bundled_tree(), None), record_disconnects(gone.clone()));
    let (server, addr) = spawn_on_loopback("server", server);

    let (silent, silent_t) = attack(addr, |_| {});
    let (slow, slow_t) = attack(addr, |s| {
        // One byte every 100 ms: the whole version would take seconds.
        for b in version() {
            if s.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let (no_verack, no_verack_t) = attack(addr, |s| {
        let _ = s.write_all(&version());
    });

    // The honest peer: a syncing engine on its own reactor.
    let mut config = Config::new(Network::Main);
    config.connect = vec![addr];
    config.serve = false;
    config.stop_when_synced = true;
    config.nonce_seed = 12;
    let mut client = Engine::new(config, HeaderTree::new(Params::for_network(Network::Main)), None);
    let (exit, _) = Reactor::new(net::Config::default()).unwrap().run(&mut client).unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert!(client.is_synced());
    assert_eq!(client.height(), 39_999);

    for (name, t) in [("silent", silent_t), ("slowloris", slow_t), ("no verack", no_verack_t)] {
        let held = t.join().unwrap();
        assert!(held >= HANDSHAKE_TIMEOUT, "{name} dropped after {held:?}, before the timeout");
        assert!(held < Duration::from_secs(30), "{name} was never dropped");
    }
    let (_, exit, _) = server.stop().unwrap();
    assert_eq!(exit, Exit::Interrupted);
    let gone = gone.lock().unwrap();
    for attacker in [silent, slow, no_verack] {
        let reason = gone.iter().find(|(a, _)| *a == attacker).map(|(_, r)| r.clone());
        assert!(
            matches!(reason, Some(DisconnectReason::HandshakeTimeout { .. })),
            "{attacker}: {reason:?} (all: {gone:?})"
        );
    }
}
