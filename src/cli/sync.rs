//! `bitwire sync [--network NAME] [--connect ADDR]... [--datadir DIR] [--peers N] [--dns-seed]`:
//! syncs block headers from peers into the header store of a data directory,
//! resuming from what the store holds.
//!
//! With no `--connect` and no `--dns-seed` it runs the offline default: it
//! starts several serving engines on loopback, each on its own reactor
//! thread, serving the real mainnet chain bundled in the binary (heights
//! 0..=39999 from corpus/), syncs from them and checks that it ends on that
//! chain's tip. This is the README's main-job command.
//!
//! Progress goes to stderr; the result is one JSON object on stdout. Exit
//! status: 0 synced, 1 the sync could not finish (no peer, a store error, the
//! peers' chain below the minimum chain work, or the offline default ending
//! on a wrong tip), 2 bad arguments, 130 stopped by Ctrl-C (the store holds
//! everything validated until then).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bitwire::chain::{store, Params};
use bitwire::net::{self, Exit, Link, PeerId, Reactor, Time};
use bitwire::peer::DisconnectReason;
use bitwire::pow::U256;
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::BlockHash;
use bitwire::Network;

use super::headers_from_bytes;
use super::json::Obj;
use super::serve::{addr_arg, network_arg, nonce_seed, serve_config, tree_from_headers, Observed};

/// The real mainnet headers 0..=39999 the offline default serves
/// (corpus/vectors/headers/mainnet_0_39999.bin, see corpus/vectors/SOURCES.md),
/// built into the binary so `bitwire sync` works anywhere.
const BUNDLED: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/corpus/vectors/headers/mainnet_0_39999.bin"
));

/// In-process serving peers of the offline default.
const DEFAULT_OFFLINE_PEERS: usize = 4;
/// Addresses taken from the DNS seeds (Core makes 8 full outbound
/// connections: `MAX_OUTBOUND_FULL_RELAY_CONNECTIONS`, src/net.h).
const DEFAULT_SEED_PEERS: usize = 8;
/// Core's `consensus.nMinimumChainWork` per network (src/kernel/chainparams.cpp,
/// v30): a chain with less work is presynced, not stored (see
/// `bitwire::sync::presync`). Regtest's is zero.
fn core_min_chain_work(network: Network) -> Option<U256> {
    let hex = match network {
        Network::Main => "0000000000000000000000000000000000000000dee8e2a309ad8a9820433c68",
        Network::Testnet3 => "0000000000000000000000000000000000000000000016dd270dd94fac1d7632",
        Network::Testnet4 => "00000000000000000000000000000000000000000000034a4690fe592dc49c7c",
        Network::Signet => "0000000000000000000000000000000000000000000000000000067d328e681a",
        _ => return None,
    };
    U256::from_hex(hex)
}

/// How often the progress line is redrawn on a terminal, and printed anew
/// otherwise.
const PROGRESS_TTY: Duration = Duration::from_millis(200);
const PROGRESS_LOG: Duration = Duration::from_secs(1);

const USAGE: &str = "\
USAGE:
    bitwire sync [OPTIONS]

Syncs block headers into the header store of a data directory (resuming from
it), validating each batch with Bitcoin Core's rules as it arrives. Progress on
stderr; one JSON object on stdout:
    {\"network\", \"tip_height\", \"tip_hash\", \"chainwork\", \"headers_synced\",
     \"elapsed_s\", \"headers_per_s\", \"peers\"}

With no --connect and no --dns-seed: the offline default. Several serving peers
start in this process on loopback, serving the real mainnet headers 0..=39999
bundled in the binary; the sync runs against them and must end on that chain's
tip (000000002509f3a013a1d21b89fe33306a45b1fcbb485dd4d310e4f9b2c09945).

OPTIONS:
    --network NAME        main, testnet3, testnet4, signet or regtest (default main)
    --connect ADDR        a peer to sync from (HOST:PORT or HOST); repeatable
    --dns-seed            find peers through the network's DNS seeds (Core's list)
    --peers N             offline default: serving peers to start (default 4);
                          --dns-seed: addresses to dial (default 8)
    --datadir DIR         data directory (default: for the offline default a
                          temporary one, in /dev/shm where it exists, removed
                          after; otherwise ~/.bitwire/NETWORK)
    --min-chain-work HEX  a chain with less total work is checked at a fixed memory
                          cost (Core's headers presync) and stored only once it
                          reaches this; 0 turns that off (default: Core's
                          nMinimumChainWork for the network; 0 for the offline
                          default, whose bundled chain is far below mainnet's)
    --stall-timeout SECS  drop a peer that leaves a getheaders unanswered this
                          long and ask another (default 30)
";

struct Args {
    network: Network,
    connect: Vec<SocketAddr>,
    dns_seed: bool,
    peers: Option<usize>,
    datadir: Option<PathBuf>,
    stall_timeout: Duration,
    /// `None`: the default; `Some(None)`: off.
    min_chain_work: Option<Option<U256>>,
}

fn parse(mut p: lexopt::Parser) -> Result<Option<Args>, String> {
    use lexopt::prelude::*;
    let mut network = Network::Main;
    let mut connect_raw = Vec::new();
    let (mut dns_seed, mut peers, mut datadir) = (false, None, None);
    let mut stall_timeout = bitwire::sync::DEFAULT_STALL_TIMEOUT;
    let mut min_chain_work = None;
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("network") => network = network_arg(p.value().map_err(|e| e.to_string())?)?,
            Long("connect") => {
                let v = p.value().map_err(|e| e.to_string())?;
                connect_raw.push(v.into_string().map_err(|_| "--connect: not UTF-8")?);
            }
            Long("dns-seed") => dns_seed = true,
            Long("peers") => {
                let n = p
                    .value()
                    .map_err(|e| e.to_string())?
                    .parse::<usize>()
                    .map_err(|e| format!("--peers: expected a count: {e}"))?;
                if n == 0 {
                    return Err("--peers: expected at least 1, found 0".into());
                }
                peers = Some(n);
            }
            Long("datadir") => datadir = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?)),
            Long("stall-timeout") => {
                let secs = p
                    .value()
                    .map_err(|e| e.to_string())?
                    .parse::<f64>()
                    .map_err(|e| format!("--stall-timeout: expected seconds: {e}"))?;
                stall_timeout = Duration::try_from_secs_f64(secs)
                    .map_err(|e| format!("--stall-timeout: expected seconds: {e}"))?;
            }
            Long("min-chain-work") => {
                let v = p.value().map_err(|e| e.to_string())?;
                let hex = v.to_str().ok_or("--min-chain-work: not UTF-8")?;
                let hex = hex.strip_prefix("0x").unwrap_or(hex);
                let work = U256::from_hex(hex).ok_or_else(|| {
                    format!("--min-chain-work: expected up to 64 hex digits, found {hex:?}")
                })?;
                min_chain_work = Some((work != U256::ZERO).then_some(work));
            }
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    let mut connect = Vec::new();
    for v in &connect_raw {
        // A name with several addresses: the first will do for one peer.
        connect.push(addr_arg(v, network).map_err(|e| format!("--connect: {e}"))?[0]);
    }
    Ok(Some(Args { network, connect, dns_seed, peers, datadir, stall_timeout, min_chain_work }))
}

/// Runs `bitwire sync` with the arguments after the subcommand name.
pub fn run(args: lexopt::Parser) -> i32 {
    let args = match super::parsed("sync", USAGE, parse(args)) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match sync(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bitwire sync: {e}");
            1
        }
    }
}

/// A data directory that is removed when dropped (the offline default's).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // The store fsyncs every batch; on a throwaway store that only
        // measures the disk, so it goes to memory (tmpfs) where there is one.
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let path = base.join(format!("bitwire-sync-{}-{nanos:09}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn default_datadir(network: Network) -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".bitwire").join(network.name())
}

/// Serving peers of the offline default, one reactor thread each.
struct Servers {
    running: Vec<net::Running<Engine>>,
    addrs: Vec<SocketAddr>,
    tip: BlockHash,
}

impl Servers {
    fn start(count: usize) -> Result<Servers, String> {
        let params = Params::for_network(Network::Main);
        let headers = headers_from_bytes(BUNDLED).map_err(|e| format!("bundled headers: {e}"))?;
        // Validated once; each server gets a copy.
        let tree =
            tree_from_headers(params, headers).map_err(|e| format!("bundled headers: {e}"))?;
        let tip = tree.tip().hash;
        let (mut running, mut addrs) = (Vec::new(), Vec::new());
        for i in 0..count {
            let mut reactor = Reactor::new(net::Config::default())
                .map_err(|e| format!("cannot start a serving reactor: {e}"))?;
            let addr = reactor
                .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
                .map_err(|e| format!("cannot listen on loopback: {e}"))?;
            let engine = Engine::new(serve_config(Network::Main, 64), tree.clone(), None);
            let name = format!("bitwire-serve-{i}");
            running.push(
                reactor.spawn(&name, engine).map_err(|e| format!("cannot start {name}: {e}"))?,
            );
            addrs.push(addr);
        }
        Ok(Servers { running, addrs, tip })
    }

    fn stop(self) {
        for r in self.running {
            // A server that failed has nothing left to give back.
            let _ = r.stop();
        }
    }
}

/// What the sync watched happen, from the engine's events.
struct Watch {
    start: Instant,
    start_height: u32,
    links: HashMap<PeerId, Link>,
    /// Outbound peers that finished the handshake.
    ready: u64,
    /// Highest height an outbound peer claimed in its `version`.
    target: u32,
    tty: bool,
    next_print: Instant,
    printed: bool,
}

impl Watch {
    fn event(&mut self, engine: &Engine, event: Event) {
        match event {
            Event::Connected { peer, link, .. } => {
                self.links.insert(peer, link);
            }
            Event::ConnectFailed { addr, error } => {
                self.line(format_args!("connect to {addr} failed: {error:?}"));
            }
            Event::Ready { peer, remote } if self.links.get(&peer) == Some(&Link::Outbound) => {
                self.ready += 1;
                self.target = self.target.max(u32::try_from(remote.start_height).unwrap_or(0));
            }
            Event::Disconnected { peer, addr, reason } => {
                self.links.remove(&peer);
                // Our own closes at the end are not news.
                let ours = matches!(reason, DisconnectReason::Closed(net::Closed::ByUs));
                if !(ours && engine.is_done()) {
                    self.line(format_args!("{peer} {addr} disconnected: {reason}"));
                }
            }
            Event::Synced { height, tip } => {
                self.progress(engine, true);
                self.line(format_args!("synced: height {height}, tip {tip}"));
            }
            Event::StoreFailed { error } => self.line(format_args!("store: {error}")),
            _ => {}
        }
    }

    /// Prints a log line, after finishing a progress line in place.
    fn line(&mut self, msg: core::fmt::Arguments<'_>) {
        if self.tty && self.printed {
            eprintln!();
            self.printed = false;
        }
        eprintln!("{msg}");
    }

    fn progress(&mut self, engine: &Engine, force: bool) {
        let now = Instant::now();
        if !force && now < self.next_print {
            return;
        }
        self.next_print = now + if self.tty { PROGRESS_TTY } else { PROGRESS_LOG };
        let height = engine.height();
        let done = height.saturating_sub(self.start_height);
        let rate = f64::from(done) / self.start.elapsed().as_secs_f64().max(1e-9);
        // The target is the best height a peer claimed; unknown until one
        // finishes its handshake.
        let target = self.target.max(height);
        let done = if target == 0 { 0.0 } else { f64::from(height) / f64::from(target) };
        let of = match target {
            0 => "?".to_string(),
            t => format!("{t} ({:.1}%)", 100.0 * done),
        };
        let peers = engine.ready_count();
        if self.tty {
            const WIDTH: usize = 24;
            let filled = ((done * WIDTH as f64) as usize).min(WIDTH);
            let bar = format!("{}{}", "#".repeat(filled), ".".repeat(WIDTH - filled));
            eprint!("\r\x1b[K[{bar}] height {height}/{of}  {rate:.0} headers/s  {peers} peers");
            self.printed = true;
        } else {
            eprintln!("height {height}/{of} {rate:.0} headers/s {peers} peers");
        }
    }

    fn finish(&mut self) {
        if self.tty && self.printed {
            eprintln!();
            self.printed = false;
        }
    }
}

fn sync(args: Args) -> Result<i32, String> {
    let offline = args.connect.is_empty() && !args.dns_seed;
    if offline && args.network != Network::Main {
        return Err(format!(
            "the offline default serves the bundled mainnet chain; for {} pass --connect or \
             --dns-seed",
            args.network
        ));
    }
    let params = Params::for_network(args.network);

    // Where the store lives.
    let mut temp = None;
    let datadir = match (&args.datadir, offline) {
        (Some(d), _) => d.clone(),
        (None, true) => temp.insert(TempDir::new()?).0.clone(),
        (None, false) => default_datadir(args.network),
    };
    let (tree, store) =
        store::load_tree(&datadir, params).map_err(|e| format!("{}: {e}", datadir.display()))?;
    let start_height = tree.tip().height;
    let start_len = tree.len();
    if start_height > 0 {
        eprintln!("resuming from {}: height {start_height}", datadir.display());
    }

    // Who to sync from.
    let mut servers = None;
    let mut connect = args.connect.clone();
    if offline {
        let count = args.peers.unwrap_or(DEFAULT_OFFLINE_PEERS);
        let s = servers.insert(Servers::start(count)?);
        eprintln!(
            "offline default: {count} loopback peers serving the bundled mainnet headers 0..=39999"
        );
        connect.extend(&s.addrs);
    }
    if args.dns_seed {
        let want = args.peers.unwrap_or(DEFAULT_SEED_PEERS);
        let resolved = net::resolve_seeds(args.network, want);
        for (seed, e) in &resolved.failed {
            eprintln!("dns seed {seed}: {e}");
        }
        eprintln!("dns seeds gave {} addresses", resolved.addrs.len());
        connect.extend(resolved.addrs);
    }
    if connect.is_empty() {
        return Err(format!(
            "no peer to sync from (the {} DNS seeds gave no address)",
            args.network
        ));
    }

    let mut config = Config::new(args.network);
    config.connect = connect;
    config.stop_when_synced = true;
    config.stall_timeout = args.stall_timeout;
    config.min_chain_work = match args.min_chain_work {
        Some(explicit) => explicit,
        None if offline => None,
        None => core_min_chain_work(args.network),
    };
    config.nonce_seed = nonce_seed();
    let min_work = config.min_chain_work;
    let reactor = Reactor::new(net::Config::default().max_connections(config.connect.len() + 64))
        .map_err(|e| format!("cannot start the reactor: {e}"))?;
    if let Err(e) = net::stop_on_ctrl_c(reactor.handle()) {
        eprintln!("bitwire sync: Ctrl-C will not stop cleanly: {e}");
    }
    let engine = Engine::new(config, tree, Some(store));

    let tty = std::io::stderr().is_terminal();
    let start = Instant::now();
    let mut watch = Watch {
        start,
        start_height,
        links: HashMap::new(),
        ready: 0,
        target: 0,
        tty,
        next_print: start,
        printed: false,
    };
    let period = if tty { PROGRESS_TTY } else { PROGRESS_LOG };
    let mut service = Observed::new(engine, period, |engine: &mut Engine, _now: Time| {
        while let Some(e) = engine.poll_event() {
            watch.event(engine, e);
        }
        watch.progress(engine, false);
    });
    let result = reactor.run(&mut service);
    let elapsed = start.elapsed().as_secs_f64();
    let engine = service.engine;
    watch.finish();
    if let Some(s) = servers.take() {
        let bundled_tip = s.tip;
        s.stop();
        if engine.is_synced() && engine.tip() != bundled_tip {
            return Err(format!(
                "the offline default ended on {} at height {}, expected the bundled tip {bundled_tip}",
                engine.tip(),
                engine.height()
            ));
        }
    }
    let (exit, _stats) = result.map_err(|e| format!("reactor failed: {e}"))?;

    let tip = engine.tree().tip();
    let synced = (engine.tree().len() - start_len) as u64;
    println!(
        "{}",
        Obj::new()
            .str("network", args.network.name())
            .u64("tip_height", u64::from(tip.height))
            .str("tip_hash", &tip.hash.to_string())
            .str("chainwork", &tip.chainwork.to_hex())
            .u64("headers_synced", synced)
            .f64("elapsed_s", (elapsed * 1000.0).round() / 1000.0)
            .f64("headers_per_s", (synced as f64 / elapsed.max(1e-9)).round())
            .u64("peers", watch.ready)
            .finish()
    );
    drop(temp);
    let below_min = min_work.filter(|&m| tip.chainwork < m);
    Ok(match exit {
        Exit::Interrupted => 130,
        _ if below_min.is_some() => {
            eprintln!(
                "bitwire sync: the best chain the peers offered (best claimed height {}) has less \
                 work than the minimum chain work {}: nothing beyond height {} is stored; pass \
                 --min-chain-work 0 to accept such a chain",
                watch.target,
                below_min.map_or_else(String::new, |m| m.to_hex()),
                tip.height
            );
            1
        }
        _ if engine.is_synced() => 0,
        _ => {
            eprintln!("bitwire sync: stopped before the sync finished (no peer left)");
            1
        }
    })
}
