//! `bitwire serve` end to end: a scripted raw peer over TCP (the handshake a
//! Bitcoin Core node would see, getheaders answered, getdata answered with
//! notfound), serving a data directory, and refusing bad header files.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use bitwire::net::{self, Closed, Io, Link, PeerId, Reactor, Service, Time};
use bitwire::sync::sim::RawPeer;
use bitwire::wire::msg::{GetData, GetHeaders, HeadersView, Verack, Version, VersionView};
use bitwire::wire::{BlockHash, InvEntry, InvType, NetAddr, ServiceFlags, HEADER_SIZE};
use bitwire::Network;

mod support;
use support::{TempDir, HEADERS};

const BIN: &str = env!("CARGO_BIN_EXE_bitwire");
const TESTNET3: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/testnet3_0_9999.bin");

fn temp_dir(name: &str) -> TempDir {
    TempDir::new("cli-serve", name)
}

/// Starts `bitwire serve` with `args` plus a loopback port; returns the
/// child and the bound address (read from its stderr).
// The child goes back to the caller, who waits for it in `stop`.
#[allow(clippy::zombie_processes)]
fn serve(args: &[&str]) -> (Child, SocketAddr) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if err.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve exited before listening");
        }
        if let Some(a) = line.trim().strip_prefix("listening on ") {
            let addr = a.parse().unwrap();
            // Keep draining stderr so the server never blocks on it.
            std::thread::spawn(move || for _ in err.lines() {});
            return (child, addr);
        }
    }
}

fn stop(child: Child) -> serde_json::Value {
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A raw peer that does the handshake, then asks for headers from genesis
/// and for a block, and stops once both are answered.
struct Client {
    raw: RawPeer,
    asked: bool,
    io: Vec<Io>,
}

impl Client {
    fn step(&mut self) {
        let has = |raw: &RawPeer, c: &str| raw.commands().contains(&c);
        if !self.asked && has(&self.raw, "verack") {
            self.asked = true;
            let genesis = bitwire::chain::Params::for_network(Network::Main).genesis_hash;
            self.raw.send(&GetHeaders {
                version: 70016,
                locator: &[genesis],
                stop_hash: BlockHash::ZERO,
            });
            let block = InvEntry::new(InvType::BLOCK, BlockHash([7; 32]));
            self.raw.send(&GetData(&[block]));
        }
        if has(&self.raw, "headers") && has(&self.raw, "notfound") {
            self.io.push(Io::Stop);
        }
    }
}

impl Service for Client {
    fn connected(&mut self, p: PeerId, a: SocketAddr, l: Link, now: Time) {
        self.raw.connected(p, a, l, now);
    }
    fn connect_failed(&mut self, a: SocketAddr, e: std::io::ErrorKind, now: Time) {
        self.raw.connect_failed(a, e, now);
        self.io.push(Io::Stop);
    }
    fn disconnected(&mut self, p: PeerId, why: Closed, now: Time) {
        self.raw.disconnected(p, why, now);
        self.io.push(Io::Stop);
    }
    fn received(&mut self, p: PeerId, bytes: &[u8], now: Time) {
        self.raw.received(p, bytes, now);
        self.step();
    }
    fn pending_output(&self, p: PeerId) -> &[u8] {
        self.raw.pending_output(p)
    }
    fn written(&mut self, p: PeerId, n: usize) {
        self.raw.written(p, n);
    }
    fn tick(&mut self, now: Time) {
        self.raw.tick(now);
    }
    fn next_io(&mut self) -> Option<Io> {
        self.io.pop().or_else(|| self.raw.next_io())
    }
    fn next_wakeup(&self) -> Option<Time> {
        None
    }
}

#[test]
fn serve_speaks_to_a_raw_peer_like_a_node() {
    let (server, addr) = serve(&["--network", "main", "--headers", HEADERS]);
    let mut raw = RawPeer::new(Network::Main.magic());
    raw.send(&Version {
        version: 70016,
        services: ServiceFlags(ServiceFlags::NETWORK.0 | ServiceFlags::WITNESS.0),
        timestamp: Time::now().as_secs() as i64,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce: 0x0123_4567_89ab_cdef,
        user_agent: b"/cli_serve-test:0/",
        start_height: 0,
        relay: false,
    });
    raw.send(&Verack);
    raw.connect(addr);
    let mut client = Client { raw, asked: false, io: Vec::new() };
    let (exit, _) = Reactor::new(net::Config::default()).unwrap().run(&mut client).unwrap();
    assert_eq!(exit, net::Exit::Stopped);
    assert_eq!(
        client.raw.closed,
        Some(Closed::ByUs),
        "the server hung up: {:?}",
        client.raw.closed
    );

    let got = &client.raw.received;
    let (_, version) = got.iter().find(|(c, _)| c.as_str() == "version").expect("a version");
    let version = VersionView::decode(version).unwrap();
    // Core keeps an outbound peer only with NODE_NETWORK or
    // NODE_NETWORK_LIMITED (src/protocol.h HasAllDesirableServiceFlags).
    let services = version.services().0;
    assert!(
        services & (ServiceFlags::NETWORK.0 | ServiceFlags::NETWORK_LIMITED.0) != 0,
        "services {services:#x}"
    );
    assert!(version.version() >= 70016);
    let (_, headers) = got.iter().find(|(c, _)| c.as_str() == "headers").unwrap();
    let headers = HeadersView::decode(headers).unwrap();
    assert_eq!(headers.len(), 2000, "a full answer from after genesis");
    let bytes = std::fs::read(HEADERS).unwrap();
    let first = headers.iter().next().unwrap();
    assert_eq!(zerocopy::IntoBytes::as_bytes(first), &bytes[HEADER_SIZE..2 * HEADER_SIZE]);
    let (_, notfound) = got.iter().find(|(c, _)| c.as_str() == "notfound").unwrap();
    assert_eq!(notfound.len(), 1 + 36, "the one block we asked for");

    let summary = stop(server);
    assert_eq!(summary["headers_served"], 2000);
    assert_eq!(summary["peers"], 1);
    assert_eq!(summary["tip_height"], 39999);
}

#[test]
fn serve_from_a_synced_data_directory() {
    let dir = temp_dir("datadir");
    let first = dir.join("first");
    let out =
        Command::new(BIN).args(["sync", "--datadir", first.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));

    // Served beside a writer that holds the store (a sync still running, or
    // an embedding node): serve reads a snapshot and needs no lock.
    let (writer, _) = bitwire::chain::HeaderStore::open(&first, bitwire::Network::Main).unwrap();
    let (server, addr) = serve(&["--network", "main", "--datadir", first.to_str().unwrap()]);
    let second = dir.join("second");
    let out = Command::new(BIN)
        .args([
            "sync",
            "--min-chain-work",
            "0",
            "--connect",
            &addr.to_string(),
            "--datadir",
            second.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["tip_height"].as_u64(), json["headers_synced"].as_u64()),
        (Some(39999), Some(39999))
    );
    assert_eq!(stop(server)["headers_served"], 39999);
    drop(writer);
}

#[test]
fn serve_refuses_bad_header_files_with_the_reason() {
    let dir = temp_dir("bad");
    let run = |args: &[&str]| {
        let out = Command::new(BIN).arg("serve").args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // One header's nonce changed: its proof of work fails.
    let mut bytes = std::fs::read(HEADERS).unwrap();
    bytes[100 * HEADER_SIZE + 76] ^= 1;
    let broken = dir.join("broken.bin");
    std::fs::write(&broken, &bytes).unwrap();
    let (code, err) = run(&["--headers", broken.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("invalid header at height 100"), "{err}");

    let short = dir.join("short.bin");
    std::fs::write(&short, &bytes[..81]).unwrap();
    let (code, err) = run(&["--headers", short.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("expected a non-zero multiple of 80 bytes of raw headers, found 81"),
        "{err}"
    );

    let (code, err) = run(&["--network", "main", "--headers", TESTNET3]);
    assert_eq!(code, Some(1));
    assert!(err.contains("must start at the main genesis"), "{err}");
    // The same file on its own network is served.
    let (child, _) = serve(&["--network", "testnet3", "--headers", TESTNET3]);
    assert_eq!(stop(child)["tip_height"], 9999);

    let (code, err) = run(&["--headers", "/nonexistent/headers.bin"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot read /nonexistent/headers.bin"), "{err}");
    let (code, _) = run(&["--network", "main", "--headers", HEADERS, "--datadir", "x"]);
    assert_eq!(code, Some(2));
}
