//! Memory stays within the configured budget over real sockets: forty
//! peers each push a 3,999,999-byte message (within the protocol's 4 MB
//! limit) at a serving engine configured with a 256 KiB per-peer message
//! budget, while an honest peer syncs the whole chain beside them. Resident
//! memory (VmRSS, sampled while they push) stays under the budget the
//! configuration promises (`max_peers` x (2 x `max_message` +
//! `max_output_per_peer`), here for the 41 peers, plus a fixed allowance for
//! the honest sync's own tree), far below the 160 MB the attackers send; each
//! attacker is dropped with the message-too-large reason.
//!
//! Alone in its test binary so no other test's memory is counted.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{self, Exit, Reactor};
use bitwire::peer::DisconnectReason;
use bitwire::sync::{Config, Engine};
use bitwire::Network;

mod support;
use support::{bundled_tree, record_disconnects, rss_bytes, spawn_on_loopback, Watched};

const ATTACKERS: usize = 40;
const MAX_MESSAGE: usize = 256 * 1024;
const MAX_OUTPUT: usize = 512 * 1024;
/// Core's MAX_PROTOCOL_MESSAGE_LENGTH (src/net.h) is 4,000,000.
const PAYLOAD: usize = 3_999_999;
/// The honest sync's tree and everything else that is not a peer buffer.
const FIXED: u64 = 24 << 20;

#[test]
fn peers_pushing_huge_messages_stay_within_the_memory_budget() {
    let params = Params::for_network(Network::Main);
    let tree = bundled_tree();

    let mut config = Config::new(Network::Main);
    config.sync = false;
    config.max_message = MAX_MESSAGE;
    config.max_output_per_peer = MAX_OUTPUT;
    config.max_peers = ATTACKERS + 1;
    config.nonce_seed = 21;
    let gone = Arc::new(Mutex::new(Vec::new()));
    let server = Watched::new(Engine::new(config, tree, None), record_disconnects(gone.clone()));
    let (server, addr) = spawn_on_loopback("server", server);
    std::thread::sleep(Duration::from_millis(100));
    let before = rss_bytes();

    // Memory sampled every 5 ms while everything runs.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::SeqCst) {
                peak = peak.max(rss_bytes());
                std::thread::sleep(Duration::from_millis(5));
            }
            peak.max(rss_bytes())
        })
    };

    // An `inv` declaring 3,999,999 bytes, then the payload in 64 KiB writes.
    let mut message = Vec::with_capacity(24 + PAYLOAD);
    message.extend_from_slice(&Network::Main.magic().to_bytes());
    message.extend_from_slice(b"inv\0\0\0\0\0\0\0\0\0");
    message.extend_from_slice(&(PAYLOAD as u32).to_le_bytes());
    message.extend_from_slice(&[0; 4]);
    message.resize(24 + PAYLOAD, 0x42);
    let message = Arc::new(message);
    let attackers: Vec<(SocketAddr, std::thread::JoinHandle<()>)> = (0..ATTACKERS)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            let local = s.local_addr().unwrap();
            let message = message.clone();
            let t = std::thread::spawn(move || {
                for chunk in message.chunks(64 * 1024) {
                    if s.write_all(chunk).is_err() {
                        break;
                    }
                }
            });
            (local, t)
        })
        .collect();

    // The honest peer syncs beside them.
    let mut config = Config::new(Network::Main);
    config.connect = vec![addr];
    config.serve = false;
    config.stop_when_synced = true;
    config.nonce_seed = 22;
    let mut client = Engine::new(config, HeaderTree::new(params), None);
    let (exit, _) = Reactor::new(net::Config::default()).unwrap().run(&mut client).unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert_eq!(client.height(), 39_999);

    // The kernel's socket buffers may take a whole message before the
    // server hangs up, so what each attacker managed to write says nothing.
    for (_, t) in attackers {
        t.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let peak = sampler.join().unwrap();
    let (_, _, _) = server.stop().unwrap();

    let peers = (ATTACKERS + 1) as u64;
    let budget = peers * (2 * MAX_MESSAGE + MAX_OUTPUT) as u64 + FIXED;
    let grew = peak.saturating_sub(before);
    eprintln!("RSS {before} -> peak {peak}: grew {grew} bytes, budget {budget}");
    assert!(grew <= budget, "grew {grew} bytes, budget {budget}");
    assert!(budget < (ATTACKERS * PAYLOAD) as u64, "the budget must be below what is sent");

    let gone = gone.lock().unwrap();
    let too_large = gone
        .iter()
        .filter(|(_, r)| matches!(r, DisconnectReason::MessageTooLarge { max: MAX_MESSAGE, .. }))
        .count();
    assert_eq!(too_large, ATTACKERS, "{gone:?}");
}
