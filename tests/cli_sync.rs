//! End to end through the built binary over loopback sockets: `bitwire
//! serve` and `bitwire sync` processes, several servers at once, a server
//! that goes silent mid-sync, one that lies, a resumed sync, Ctrl-C, and the
//! offline default (the README's main-job command).
//!
//! The silent and the lying servers are the library's own serving engine on
//! the library's reactor, in this test process, behind a small wrapper that
//! mutes or corrupts it; the honest servers are `bitwire serve` processes.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bitwire::net::{self, Closed, Io, Link, PeerId, Service, Time};
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::HEADER_SIZE;
use bitwire::Network;
use serde_json::Value;

mod support;
use support::{bundled_tree, spawn_on_loopback, TempDir, HEADERS};

const BIN: &str = env!("CARGO_BIN_EXE_bitwire");
const HEADERS_JSON: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.json");
/// No test process may run longer than this.
const DEADLINE: Duration = Duration::from_secs(120);

/// The bundled chain's tip, from the corpus's own description of the file.
fn expected_tip() -> String {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(HEADERS_JSON).unwrap()).unwrap();
    meta["sha256d_last_header"].as_str().unwrap().to_string()
}

/// The bundled chain's total work, by rust-bitcoin, as 64 hex digits.
fn expected_chainwork() -> String {
    use bitcoin::consensus::deserialize;
    let bytes = std::fs::read(HEADERS).unwrap();
    let mut work: Option<bitcoin::Work> = None;
    for chunk in bytes.chunks_exact(HEADER_SIZE) {
        let header: bitcoin::block::Header = deserialize(chunk).unwrap();
        work = Some(work.map_or(header.work(), |w| w + header.work()));
    }
    hex::encode(work.unwrap().to_be_bytes())
}

fn temp_dir(name: &str) -> TempDir {
    TempDir::new("cli-sync", name)
}

/// A child process whose stderr lines are collected by a thread.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc { child, lines, seen: Vec::new() }
    }

    /// Waits for a stderr line matching `pred` and returns it.
    fn wait_line(&mut self, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("no matching stderr line; saw {:#?}", self.seen),
            }
        }
    }

    /// A `bitwire serve` of `file`; returns it with its bound address.
    fn serve(file: &str) -> (Proc, SocketAddr) {
        let mut p = Proc::spawn(&[
            "serve",
            "--network",
            "main",
            "--headers",
            file,
            "--listen",
            "127.0.0.1:0",
        ]);
        let line = p.wait_line(|l| l.starts_with("listening on "));
        let addr = line["listening on ".len()..].parse().unwrap();
        (p, addr)
    }

    fn interrupt(&self) {
        let ok = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -INT failed");
    }

    /// Waits for the exit; returns the status code, stdout and all stderr.
    fn finish(mut self) -> (i32, String, String) {
        let end = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                panic!("process did not exit; stderr so far {:#?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut out).unwrap();
        // The reader thread ends at EOF; gather what it has not handed over.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (status.code().unwrap_or(-1), out, self.seen.join("\n"))
    }

    /// Stops a server with Ctrl-C and returns its summary and log.
    fn stop_server(self) -> (Value, String) {
        self.interrupt();
        let (code, out, err) = self.finish();
        assert_eq!(code, 0, "serve exit status; stderr:\n{err}");
        (serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}")), err)
    }
}

/// Runs `bitwire sync` to the end; returns its exit code, JSON and stderr.
fn sync(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["sync"];
    all.extend_from_slice(args);
    let (code, out, err) = Proc::spawn(&all).finish();
    let json = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}\n{err}"));
    (code, json, err)
}

fn assert_synced_to_bundled_tip(code: i32, json: &Value, err: &str) {
    assert_eq!(code, 0, "sync exit status; stderr:\n{err}");
    assert_eq!(json["network"], "main");
    assert_eq!(json["tip_height"], 39999, "{json}\n{err}");
    assert_eq!(json["tip_hash"], expected_tip().as_str());
    assert_eq!(json["chainwork"], expected_chainwork().as_str());
    for key in ["elapsed_s", "headers_per_s"] {
        assert!(json[key].as_f64().is_some_and(|v| v >= 0.0), "{key} in {json}");
    }
}

#[test]
fn offline_default_ends_on_the_bundled_tip() {
    // The README's main-job command, `cargo run --release -- sync`, is this
    // binary with no arguments.
    let (code, json, err) = sync(&[]);
    assert_synced_to_bundled_tip(code, &json, &err);
    assert_eq!(json["headers_synced"], 39999);
    assert_eq!(json["peers"], 4);
    assert!(err.contains("synced: height 39999"), "{err}");
    assert!(json["headers_per_s"].as_f64().unwrap() > 0.0);
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = [
        "network",
        "tip_height",
        "tip_hash",
        "chainwork",
        "headers_synced",
        "elapsed_s",
        "headers_per_s",
        "peers",
    ];
    keys.sort_unstable();
    want.sort_unstable();
    assert_eq!(keys, want);
}

#[test]
fn serve_process_and_sync_process_over_loopback() {
    let (server, addr) = Proc::serve(HEADERS);
    let dir = temp_dir("pair");
    let (code, json, err) = sync(&[
        "--min-chain-work",
        "0",
        "--connect",
        &addr.to_string(),
        "--datadir",
        dir.to_str().unwrap(),
    ]);
    assert_synced_to_bundled_tip(code, &json, &err);
    assert_eq!((json["headers_synced"].as_u64(), json["peers"].as_u64()), (Some(39999), Some(1)));
    // The store in the data directory holds the chain: 16-byte file header,
    // then records of (count, checksum, headers).
    let stored = std::fs::metadata(dir.join("headers.dat")).unwrap().len();
    assert!(stored > 39999 * 80, "store holds {stored} bytes");

    let (summary, log) = server.stop_server();
    assert_eq!(summary["headers_served"], 39999, "{summary}\n{log}");
    assert_eq!(summary["peers"], 1);
    assert!(log.contains("caught up, served 39999 headers in"), "{log}");
    assert!(log.contains("headers/s"), "{log}");
}

#[test]
fn several_servers_at_once_share_the_work() {
    let servers: Vec<(Proc, SocketAddr)> = (0..3).map(|_| Proc::serve(HEADERS)).collect();
    let dir = temp_dir("several");
    let mut args = vec!["--datadir".to_string(), dir.to_str().unwrap().to_string()];
    // The bundled chain is far below mainnet's minimum chain work.
    args.extend(["--min-chain-work".to_string(), "0".to_string()]);
    for (_, addr) in &servers {
        args.extend(["--connect".to_string(), addr.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, json, err) = sync(&args);
    assert_synced_to_bundled_tip(code, &json, &err);
    assert_eq!(json["peers"], 3);
    let mut total = 0;
    for (p, _) in servers {
        let (summary, log) = p.stop_server();
        let served = summary["headers_served"].as_u64().unwrap();
        // 20 requests of 2000 go round the three peers: each gets some.
        assert!(served >= 2000, "a server served only {served}:\n{log}");
        total += served;
    }
    assert_eq!(total, 39999, "every header was fetched exactly once");
}

/// Output queued per peer by a wrapper, drained by the reactor.
#[derive(Default)]
struct Queue {
    buf: Vec<u8>,
    sent: usize,
}

/// A serving engine that answers `answers` getheaders per peer, then takes
/// in nothing more from that peer and so says nothing more: the connection
/// stays open and silent.
struct Silent {
    engine: Engine,
    answers: u64,
    muted: HashSet<PeerId>,
}

impl Silent {
    fn watch(&mut self) {
        while let Some(e) = self.engine.poll_event() {
            if let Event::Served { peer, total, .. } = e {
                if total >= self.answers * 2000 {
                    self.muted.insert(peer);
                }
            }
        }
    }
}

impl Service for Silent {
    fn connected(&mut self, p: PeerId, a: SocketAddr, l: Link, now: Time) {
        self.engine.connected(p, a, l, now);
    }
    fn connect_failed(&mut self, a: SocketAddr, e: std::io::ErrorKind, now: Time) {
        self.engine.connect_failed(a, e, now);
    }
    fn disconnected(&mut self, p: PeerId, why: Closed, now: Time) {
        self.engine.disconnected(p, why, now);
    }
    fn received(&mut self, p: PeerId, bytes: &[u8], now: Time) {
        if !self.muted.contains(&p) {
            self.engine.received(p, bytes, now);
            self.watch();
        }
    }
    fn pending_output(&self, p: PeerId) -> &[u8] {
        self.engine.pending_output(p)
    }
    fn written(&mut self, p: PeerId, n: usize) {
        self.engine.written(p, n);
    }
    fn tick(&mut self, now: Time) {
        self.engine.tick(now);
    }
    fn next_io(&mut self) -> Option<Io> {
        self.engine.next_io()
    }
    fn next_wakeup(&self) -> Option<Time> {
        self.engine.next_wakeup()
    }
}

/// A serving engine whose every `headers` message is corrupted on the way
/// out: the last header's nonce changes, so its proof of work fails; the
/// message checksum is fixed up so only the header rules can catch it.
struct Liar {
    engine: Engine,
    out: HashMap<PeerId, Queue>,
    lies: usize,
}

impl Liar {
    fn take_output(&mut self, peer: PeerId) {
        let bytes = self.engine.pending_output(peer).to_vec();
        self.engine.written(peer, bytes.len());
        let queue = self.out.entry(peer).or_default();
        // The engine queues whole messages, so `bytes` is a run of frames.
        let mut pos = 0;
        while pos + 24 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[pos + 16..pos + 20].try_into().unwrap()) as usize;
            let mut frame = bytes[pos..pos + 24 + len].to_vec();
            // The count is a CompactSize: one byte below 0xfd, else 0xfd
            // and two bytes (2000 headers); then 81 bytes per header.
            let (count, skip) = match frame.get(24) {
                Some(&0xfd) => (u16::from_le_bytes([frame[25], frame[26]]) as usize, 3),
                Some(&n) if n < 0xfd => (n as usize, 1),
                _ => (0, 0),
            };
            if &frame[4..16] == b"headers\0\0\0\0\0" && count >= 2 {
                // The last header: one before it would also break the link
                // to the next (caught first, as non-continuous headers).
                let nonce = 24 + skip + 81 * (count - 1) + 76;
                frame[nonce] ^= 0x5a;
                let sum = bitwire::pow::sha256d(&frame[24..]);
                frame[20..24].copy_from_slice(&sum[..4]);
                self.lies += 1;
            }
            queue.buf.extend_from_slice(&frame);
            pos += 24 + len;
        }
        assert_eq!(pos, bytes.len(), "output was not whole frames");
    }
}

impl Service for Liar {
    fn connected(&mut self, p: PeerId, a: SocketAddr, l: Link, now: Time) {
        self.engine.connected(p, a, l, now);
    }
    fn connect_failed(&mut self, a: SocketAddr, e: std::io::ErrorKind, now: Time) {
        self.engine.connect_failed(a, e, now);
    }
    fn disconnected(&mut self, p: PeerId, why: Closed, now: Time) {
        self.out.remove(&p);
        self.engine.disconnected(p, why, now);
    }
    fn received(&mut self, p: PeerId, bytes: &[u8], now: Time) {
        self.engine.received(p, bytes, now);
        while self.engine.poll_event().is_some() {}
    }
    fn pending_output(&self, p: PeerId) -> &[u8] {
        self.out.get(&p).map_or(&[], |q| &q.buf[q.sent..])
    }
    fn written(&mut self, p: PeerId, n: usize) {
        let q = self.out.get_mut(&p).unwrap();
        q.sent += n;
        if q.sent == q.buf.len() {
            q.buf.clear();
            q.sent = 0;
        }
    }
    fn tick(&mut self, now: Time) {
        self.engine.tick(now);
    }
    fn next_io(&mut self) -> Option<Io> {
        let io = self.engine.next_io()?;
        if let Io::Write(p) = io {
            self.take_output(p);
        }
        Some(io)
    }
    fn next_wakeup(&self) -> Option<Time> {
        self.engine.next_wakeup()
    }
}

/// A serving engine over the bundled chain (validated in this process).
fn serving_engine() -> Engine {
    let tree = bundled_tree();
    let mut config = Config::new(Network::Main);
    config.sync = false;
    config.nonce_seed = 0x5e11;
    Engine::new(config, tree, None)
}

fn spawn_in_process<S: Service + Send + 'static>(service: S) -> (net::Running<S>, SocketAddr) {
    spawn_on_loopback("test-server", service)
}

#[test]
fn a_server_that_goes_silent_mid_sync_is_dropped_and_the_sync_completes() {
    let silent = Silent { engine: serving_engine(), answers: 1, muted: HashSet::new() };
    let (silent, silent_addr) = spawn_in_process(silent);
    let (honest, honest_addr) = Proc::serve(HEADERS);
    let dir = temp_dir("silent");
    let (code, json, err) = sync(&[
        "--min-chain-work",
        "0",
        "--connect",
        &silent_addr.to_string(),
        "--connect",
        &honest_addr.to_string(),
        "--stall-timeout",
        "1",
        "--datadir",
        dir.to_str().unwrap(),
    ]);
    assert_synced_to_bundled_tip(code, &json, &err);
    assert!(
        err.contains(&format!("{silent_addr} disconnected: headers request stalled")),
        "the silent server was not named:\n{err}"
    );
    let (silent, _, _) = silent.stop().unwrap();
    assert!(!silent.muted.is_empty(), "the silent server never went silent");
    let (summary, _) = honest.stop_server();
    assert!(summary["headers_served"].as_u64().unwrap() >= 39999 - 2000);
}

#[test]
fn a_lying_server_is_dropped_with_the_reason_and_the_sync_completes() {
    let liar = Liar { engine: serving_engine(), out: HashMap::new(), lies: 0 };
    let (liar, liar_addr) = spawn_in_process(liar);
    let (honest, honest_addr) = Proc::serve(HEADERS);
    let dir = temp_dir("liar");
    let (code, json, err) = sync(&[
        "--min-chain-work",
        "0",
        "--connect",
        &liar_addr.to_string(),
        "--connect",
        &honest_addr.to_string(),
        "--datadir",
        dir.to_str().unwrap(),
    ]);
    assert_synced_to_bundled_tip(code, &json, &err);
    let named = err
        .lines()
        .find(|l| l.contains(&format!("{liar_addr} disconnected: invalid header at height")))
        .unwrap_or_else(|| panic!("the liar was not named:\n{err}"));
    assert!(named.contains("high-hash") || named.contains("proof of work"), "{named}");
    let (liar, _, _) = liar.stop().unwrap();
    assert!(liar.lies >= 1, "the liar was never asked");
    honest.stop_server();
}

#[test]
fn a_sync_resumes_from_the_store() {
    // First from a server holding only heights 0..=19999, then the offline
    // default on the same data directory fetches the rest.
    let dir = temp_dir("resume");
    let half = dir.join("half.bin");
    std::fs::write(&half, &std::fs::read(HEADERS).unwrap()[..20_000 * HEADER_SIZE]).unwrap();
    let (server, addr) = Proc::serve(half.to_str().unwrap());
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let (code, json, err) =
        sync(&["--min-chain-work", "0", "--connect", &addr.to_string(), "--datadir", data]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (json["tip_height"].as_u64(), json["headers_synced"].as_u64()),
        (Some(19999), Some(19999))
    );
    server.stop_server();

    let (code, json, err) = sync(&["--datadir", data]);
    assert_synced_to_bundled_tip(code, &json, &err);
    assert_eq!(json["headers_synced"], 20000, "only the missing half is fetched");
    assert!(err.contains("resuming from") && err.contains("height 19999"), "{err}");

    // A third run has nothing to fetch.
    let (code, json, err) = sync(&["--datadir", data]);
    assert_synced_to_bundled_tip(code, &json, &err);
    assert_eq!(json["headers_synced"], 0);
}

#[test]
fn a_data_directory_in_use_is_refused_and_left_as_it_was() {
    // Another writer (a running `bitwire sync` or an embedding node) holds
    // the store: a second sync on the same directory stops at once with the
    // reason, instead of treating the other writer's tail as torn.
    let dir = temp_dir("in-use");
    let data = dir.join("data");
    let (store, _) = bitwire::chain::HeaderStore::open(&data, Network::Main).unwrap();
    let file = data.join(bitwire::chain::store::FILE_NAME);
    let before = std::fs::read(&file).unwrap();
    let (code, out, err) = Proc::spawn(&["sync", "--datadir", data.to_str().unwrap()]).finish();
    assert_eq!(code, 1, "stdout {out:?}; stderr:\n{err}");
    assert!(out.trim().is_empty(), "no result on stdout: {out:?}");
    assert!(err.contains("in use"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    drop(store);
    let (code, json, err) = sync(&["--datadir", data.to_str().unwrap()]);
    assert_synced_to_bundled_tip(code, &json, &err);
}

#[test]
fn ctrl_c_stops_the_sync_with_the_store_saved() {
    // A server that answers ten requests (20,000 headers) and then goes
    // silent for longer than the test runs: the sync sits at height 20,000.
    let silent = Silent { engine: serving_engine(), answers: 10, muted: HashSet::new() };
    let (silent, addr) = spawn_in_process(silent);
    let dir = temp_dir("ctrlc");
    let data = dir.to_str().unwrap();
    let addr = addr.to_string();
    let mut p = Proc::spawn(&[
        "sync",
        "--min-chain-work",
        "0",
        "--connect",
        &addr,
        "--datadir",
        data,
        "--stall-timeout",
        "600",
    ]);
    p.wait_line(|l| l.starts_with("height 20000/"));
    p.interrupt();
    let (code, out, err) = p.finish();
    assert_eq!(code, 130, "{err}");
    let json: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["tip_height"], 20000, "{json}");
    let _ = silent.stop().unwrap();

    // What was validated before Ctrl-C is in the store.
    let (code, json, err) = sync(&["--datadir", data]);
    assert_synced_to_bundled_tip(code, &json, &err);
    assert_eq!(json["headers_synced"], 19999);
}

#[test]
fn bad_arguments_exit_2_and_help_exits_0() {
    let run = |args: &[&str]| Command::new(BIN).args(args).output().unwrap();
    let out = run(&["sync", "--peers", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected at least 1, found 0"));
    let out = run(&["sync", "--network", "mars"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["sync", "--network", "signet"]);
    assert_eq!(out.status.code(), Some(1), "no offline default off mainnet");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("offline default serves the bundled mainnet")
    );
    // Regtest has no DNS seeds (Core lists none): nothing to dial.
    let dir = temp_dir("regtest-seeds");
    let out =
        run(&["sync", "--network", "regtest", "--dns-seed", "--datadir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no peer to sync from (the regtest DNS seeds gave no address)"), "{err}");
    let out = run(&["sync", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--dns-seed"));
    let out = run(&["serve", "--network", "main"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--headers FILE or --datadir DIR"));
}

#[test]
fn a_chain_below_the_minimum_chain_work_is_not_stored() {
    // Without --min-chain-work a sync from real peers uses Core's mainnet
    // nMinimumChainWork: the bundled 40,000 headers are far below it, so they
    // are presynced (checked, counted) and never stored.
    let (server, addr) = Proc::serve(HEADERS);
    let dir = temp_dir("minwork");
    let data = dir.to_str().unwrap();
    let (code, json, err) = sync(&["--connect", &addr.to_string(), "--datadir", data]);
    assert_eq!(code, 1, "{err}");
    assert_eq!((json["tip_height"].as_u64(), json["headers_synced"].as_u64()), (Some(0), Some(0)));
    assert!(err.contains("less work than the minimum chain work"), "{err}");
    assert!(err.contains("dee8e2a309ad8a9820433c68"), "Core's mainnet minimum is named: {err}");
    let (summary, _) = server.stop_server();
    assert!(summary["headers_served"].as_u64().unwrap() >= 39999, "the chain was presynced");

    let out = Command::new(BIN).args(["sync", "--min-chain-work", "xyz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected up to 64 hex digits"));
}

/// A one-connection attacker on a plain socket: accepts, writes `bytes`,
/// then either hangs up at once or waits for the other side to close.
fn attacker(bytes: Vec<u8>, hang_up: bool) -> SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else { return };
        let _ = s.write_all(&bytes);
        if !hang_up {
            let _ = s.read_to_end(&mut Vec::new());
        }
    });
    addr
}

fn version_bytes(magic: bitwire::Magic) -> Vec<u8> {
    use bitwire::wire::msg::Version;
    use bitwire::wire::{write_message, NetAddr, ServiceFlags};
    let mut out = Vec::new();
    write_message(
        &mut out,
        magic,
        &Version {
            version: 70016,
            services: ServiceFlags(ServiceFlags::NETWORK.0 | ServiceFlags::WITNESS.0),
            timestamp: Time::now().as_secs() as i64,
            receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
            sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
            nonce: 42,
            user_agent: b"/attacker:0/",
            start_height: 900_000,
            relay: false,
        },
    );
    out
}

#[test]
fn hostile_streams_beside_an_honest_server_do_not_stop_the_sync() {
    let main = Network::Main.magic();
    // Garbage: bytes that are not a message start.
    let garbage: Vec<u8> =
        (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let garbage = attacker(garbage, false);
    // A well-formed version, on testnet3's magic.
    let wrong_magic = attacker(version_bytes(Network::Testnet3.magic()), false);
    // Mainnet magic and "version", declaring 4 GiB of payload.
    let mut huge = version_bytes(main)[..24].to_vec();
    huge[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let oversized = attacker(huge, false);
    // Half a version message, then the connection closes.
    let half = version_bytes(main);
    let cut = attacker(half[..half.len() / 2].to_vec(), true);

    let (honest, honest_addr) = Proc::serve(HEADERS);
    let dir = temp_dir("hostile");
    let mut args = vec!["--min-chain-work", "0", "--datadir", dir.to_str().unwrap()];
    let addrs: Vec<String> =
        [garbage, wrong_magic, oversized, cut, honest_addr].iter().map(|a| a.to_string()).collect();
    for a in &addrs {
        args.extend(["--connect", a.as_str()]);
    }
    let (code, json, err) = sync(&args);
    assert_synced_to_bundled_tip(code, &json, &err);
    assert_eq!(json["peers"], 1, "only the honest server finished a handshake");
    let said = |addr: SocketAddr, what: &str| {
        let want = format!("{addr} disconnected: {what}");
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    };
    said(garbage, "framing error: bad magic");
    said(wrong_magic, "framing error: bad magic: expected f9beb4d9, found 0b110907");
    said(oversized, "framing error: oversized payload: declared 4294967295 bytes");
    // A plain close, or a reset when our own version was still unread.
    said(cut, "connection closed");
    honest.stop_server();
}
