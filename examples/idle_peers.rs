//! Memory per idle peer: a serving engine on the mio reactor holds N idle
//! peers (default 5,000) after the version handshake, and its process's
//! resident memory (VmRSS in /proc/self/status) is read before and after.
//!
//! ```text
//! cargo run --release --example idle_peers -- 5000
//! ```
//!
//! The peers are a second copy of this program (a syncing engine dialling
//! the server N times), so the figure is the serving side's alone: the
//! reactor's per-socket state, the engine's per-peer state and buffers, and
//! the kernel's per-socket memory that is charged to the process (none of
//! the socket buffers are: they live in kernel memory, not in RSS). Needs
//! `ulimit -n` above N + 50 in both processes.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{self, Closed, Io, Link, PeerId, Reactor, Service, Time};
use bitwire::peer::DisconnectReason;
use bitwire::sync::{Config, Engine, Event};
use bitwire::Network;

/// An engine that counts peers through the handshake into `ready`.
struct Counted {
    engine: Engine,
    ready: Arc<AtomicUsize>,
}

impl Counted {
    fn drain(&mut self) {
        while let Some(e) = self.engine.poll_event() {
            match e {
                Event::Ready { .. } => {
                    self.ready.fetch_add(1, Ordering::SeqCst);
                }
                // Closes at the end are expected; anything else is news.
                Event::Disconnected { reason: DisconnectReason::Closed(_), .. } => {}
                Event::Disconnected { addr, reason, .. } => {
                    eprintln!("idle_peers: {addr} disconnected: {reason}");
                }
                Event::ConnectFailed { addr, error } => {
                    eprintln!("idle_peers: connect to {addr} failed: {error:?}");
                }
                _ => {}
            }
        }
    }
}

impl Service for Counted {
    fn connected(&mut self, p: PeerId, a: SocketAddr, l: Link, now: Time) {
        self.engine.connected(p, a, l, now);
        self.drain();
    }
    fn connect_failed(&mut self, a: SocketAddr, e: std::io::ErrorKind, now: Time) {
        self.engine.connect_failed(a, e, now);
        self.drain();
    }
    fn disconnected(&mut self, p: PeerId, why: Closed, now: Time) {
        self.engine.disconnected(p, why, now);
        self.drain();
    }
    fn received(&mut self, p: PeerId, bytes: &[u8], now: Time) {
        self.engine.received(p, bytes, now);
        self.drain();
    }
    fn pending_output(&self, p: PeerId) -> &[u8] {
        self.engine.pending_output(p)
    }
    fn written(&mut self, p: PeerId, n: usize) {
        self.engine.written(p, n);
    }
    fn tick(&mut self, now: Time) {
        self.engine.tick(now);
        self.drain();
    }
    fn next_io(&mut self) -> Option<Io> {
        self.engine.next_io()
    }
    fn next_wakeup(&self) -> Option<Time> {
        self.engine.next_wakeup()
    }
}

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

fn engine(connect: Vec<SocketAddr>, peers: usize) -> Engine {
    let tree = HeaderTree::new(Params::for_network(Network::Main));
    let mut config = Config::new(Network::Main);
    config.sync = !connect.is_empty();
    config.connect = connect;
    config.max_peers = peers + 16;
    config.nonce_seed = u64::from(std::process::id());
    Engine::new(config, tree, None)
}

fn wait_for(ready: &AtomicUsize, n: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while ready.load(Ordering::SeqCst) < n {
        assert!(Instant::now() < deadline, "{what}: {} of {n} ready", ready.load(Ordering::SeqCst));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The peers: dial `addr` `n` times and idle until stdin closes.
fn peers(addr: SocketAddr, n: usize) {
    let ready = Arc::new(AtomicUsize::new(0));
    let service = Counted { engine: engine(vec![addr; n], n), ready: Arc::clone(&ready) };
    // The server's backlog may overflow while thousands of SYNs arrive at
    // once; a dropped SYN is retried by the kernel after 1 s, 3 s, ...
    let config =
        net::Config::default().max_connections(n + 16).connect_timeout(Duration::from_secs(60));
    let running = Reactor::new(config).expect("reactor").spawn("peers", service).expect("spawn");
    wait_for(&ready, n, "peers");
    println!("ready {n}");
    std::io::stdout().flush().expect("stdout");
    // Idle until the parent closes our stdin.
    let _ = std::io::stdin().lines().count();
    let _ = running.stop();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--peers-of") {
        let addr = args[1].parse().expect("address");
        let n = args[2].parse().expect("count");
        peers(addr, n);
        return;
    }
    let n: usize = args.first().map_or(5000, |s| s.parse().expect("N: a count of peers"));

    let ready = Arc::new(AtomicUsize::new(0));
    let mut reactor =
        Reactor::new(net::Config::default().max_connections(n + 16)).expect("reactor");
    let addr = reactor.listen("127.0.0.1:0".parse().unwrap()).expect("listen");
    let server = Counted { engine: engine(Vec::new(), n), ready: Arc::clone(&ready) };
    let running = reactor.spawn("server", server).expect("spawn");
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kib();

    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args(["--peers-of", &addr.to_string(), &n.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the peers");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("peers' output");
    assert_eq!(line.trim(), format!("ready {n}"), "the peers did not come up");
    wait_for(&ready, n, "server");
    let up = start.elapsed();
    // Let the handshake's last messages and any lazily freed memory settle.
    std::thread::sleep(Duration::from_secs(1));
    let after = rss_kib();

    drop(child.stdin.take());
    let _ = child.wait();
    let (_, _, stats) = running.stop().expect("server");
    let per_peer = (after.saturating_sub(before)) as f64 * 1024.0 / n as f64;
    println!(
        "{n} idle peers after handshake (up in {:.1} s): server RSS {before} KiB -> {after} KiB, \
         {per_peer:.0} bytes ({:.2} KiB) per peer; peak connections {}",
        up.as_secs_f64(),
        per_peer / 1024.0,
        stats.peak_connections
    );
}
