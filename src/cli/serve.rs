//! `bitwire serve --network NAME (--headers FILE | --datadir DIR) [--listen ADDR]...`:
//! serves a header chain to any peer that connects, through the sync engine
//! on the mio reactor, and logs per peer how many headers it served and how
//! fast. Pointed at by another node, it measures that node's header sync.
//!
//! Stops on Ctrl-C (or SIGTERM) and then prints one JSON object on stdout.
//! Exit status: 0 after a clean stop, 1 when the chain cannot be loaded or a
//! listener cannot be bound, 2 for bad arguments.

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use bitwire::chain::{store, HeaderTree, Params};
use bitwire::net::{self, Closed, Io, Link, PeerId, Reactor, Service, Time};
use bitwire::peer::DisconnectReason;
use bitwire::sync::{Config, Engine, Event, MAX_HEADERS_RESULTS};
use bitwire::wire::BlockHeader;
use bitwire::Network;

use super::headers_from_bytes;
use super::json::Obj;

const USAGE: &str = "\
USAGE:
    bitwire serve --network NAME (--headers FILE | --datadir DIR) [OPTIONS]

Serves a header chain to every peer that connects: answers getheaders from the
chain (2000 headers a message) and getdata with notfound. Logs on stderr, per
peer, how many headers it served and how fast. Runs until Ctrl-C, then prints a
JSON summary on stdout.

OPTIONS:
    --network NAME         main, testnet3, testnet4, signet or regtest (default main)
    --headers FILE         raw concatenated 80-byte headers from the genesis
                           (or from height 1), validated before serving
    --datadir DIR          serve the header store of a `bitwire sync` data directory
    --listen ADDR          address to listen on; repeatable
                           (default 127.0.0.1:<the network's port>)
    --max-connections N    most peers at once (default 10000)
";

struct Args {
    network: Network,
    source: Source,
    listen: Vec<SocketAddr>,
    max_connections: usize,
}

enum Source {
    Headers(PathBuf),
    Datadir(PathBuf),
}

/// Parses `--network`'s value.
pub(super) fn network_arg(v: OsString) -> Result<Network, String> {
    let s = v.to_str().ok_or("--network: not UTF-8")?;
    s.parse::<Network>().map_err(|e| e.to_string())
}

/// Parses `HOST:PORT` or `HOST` (the network's default port) into every
/// address it resolves to.
pub(super) fn addr_arg(v: &str, network: Network) -> Result<Vec<SocketAddr>, String> {
    let resolved = match v.parse::<SocketAddr>() {
        Ok(a) => return Ok(vec![a]),
        Err(_) if v.contains(':') && !v.starts_with('[') => v.to_socket_addrs(),
        Err(_) => (v, network.default_port()).to_socket_addrs(),
    };
    let addrs: Vec<SocketAddr> =
        resolved.map_err(|e| format!("cannot resolve {v:?}: {e}"))?.collect();
    if addrs.is_empty() {
        return Err(format!("{v:?} resolves to no address"));
    }
    Ok(addrs)
}

fn parse(mut p: lexopt::Parser) -> Result<Option<Args>, String> {
    use lexopt::prelude::*;
    let mut network = Network::Main;
    let (mut headers, mut datadir, mut listen) = (None, None, Vec::new());
    let mut max_connections = bitwire::sync::DEFAULT_MAX_PEERS;
    let mut listen_raw = Vec::new();
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("network") => network = network_arg(p.value().map_err(|e| e.to_string())?)?,
            Long("headers") => headers = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?)),
            Long("datadir") => datadir = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?)),
            Long("listen") => {
                let v = p.value().map_err(|e| e.to_string())?;
                listen_raw.push(v.into_string().map_err(|_| "--listen: not UTF-8")?);
            }
            Long("max-connections") => {
                max_connections = p
                    .value()
                    .map_err(|e| e.to_string())?
                    .parse::<usize>()
                    .map_err(|e| format!("--max-connections: expected a count: {e}"))?;
            }
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    for v in &listen_raw {
        listen.extend(addr_arg(v, network).map_err(|e| format!("--listen: {e}"))?);
    }
    if listen.is_empty() {
        listen.push(SocketAddr::from(([127, 0, 0, 1], network.default_port())));
    }
    let source = match (headers, datadir) {
        (Some(f), None) => Source::Headers(f),
        (None, Some(d)) => Source::Datadir(d),
        (None, None) => return Err("one of --headers FILE or --datadir DIR is required".into()),
        (Some(_), Some(_)) => return Err("--headers and --datadir exclude each other".into()),
    };
    Ok(Some(Args { network, source, listen, max_connections }))
}

/// Validates `headers` (starting at the genesis of `params`, or at height 1)
/// into a fresh tree with Core's rules.
pub(super) fn tree_from_headers(
    params: &Params,
    headers: &[BlockHeader],
) -> Result<HeaderTree, String> {
    let genesis = params.genesis_hash;
    let first = headers.first().ok_or("no headers")?;
    if first.block_hash() != genesis && first.prev_hash() != genesis {
        return Err(format!(
            "the headers must start at the {} genesis {genesis} or at height 1; found {} \
             with previous block {}",
            params.network,
            first.block_hash(),
            first.prev_hash()
        ));
    }
    let mut tree = HeaderTree::new(params);
    tree.accept(headers, Time::now().as_secs()).map_err(|rej| {
        let height = tree.height_of(&headers[rej.index].prev_hash()).map_or(0, |h| h + 1);
        format!("invalid header at height {height}: {rej}")
    })?;
    Ok(tree)
}

/// A serving-only engine configuration.
pub(super) fn serve_config(network: Network, max_peers: usize) -> Config {
    let mut config = Config::new(network);
    config.sync = false;
    config.serve = true;
    config.max_peers = max_peers;
    config.nonce_seed = nonce_seed();
    config
}

/// A per-process seed for `version` nonces (self-connection detection).
pub(super) fn nonce_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ (u64::from(std::process::id()) << 32)
}

/// An engine with something watching its events: after every call that can
/// produce events, and at least every `period`, `observe` runs.
pub(super) struct Observed<F> {
    pub engine: Engine,
    observe: F,
    period: Duration,
    next: Time,
}

impl<F: FnMut(&mut Engine, Time)> Observed<F> {
    pub(super) fn new(engine: Engine, period: Duration, observe: F) -> Observed<F> {
        Observed { engine, observe, period, next: Time::now() + period }
    }

    fn observe(&mut self, now: Time) {
        (self.observe)(&mut self.engine, now);
    }
}

impl<F: FnMut(&mut Engine, Time)> Service for Observed<F> {
    fn connected(&mut self, peer: PeerId, addr: SocketAddr, link: Link, now: Time) {
        self.engine.connected(peer, addr, link, now);
        self.observe(now);
    }
    fn connect_failed(&mut self, addr: SocketAddr, error: std::io::ErrorKind, now: Time) {
        self.engine.connect_failed(addr, error, now);
        self.observe(now);
    }
    fn disconnected(&mut self, peer: PeerId, why: Closed, now: Time) {
        self.engine.disconnected(peer, why, now);
        self.observe(now);
    }
    fn received(&mut self, peer: PeerId, bytes: &[u8], now: Time) {
        self.engine.received(peer, bytes, now);
        self.observe(now);
    }
    fn pending_output(&self, peer: PeerId) -> &[u8] {
        self.engine.pending_output(peer)
    }
    fn written(&mut self, peer: PeerId, n: usize) {
        self.engine.written(peer, n);
    }
    fn tick(&mut self, now: Time) {
        if self.engine.next_wakeup().is_some_and(|t| t <= now) {
            self.engine.tick(now);
        }
        if now >= self.next {
            self.next = now + self.period;
        }
        self.observe(now);
    }
    fn next_io(&mut self) -> Option<Io> {
        self.engine.next_io()
    }
    fn next_wakeup(&self) -> Option<Time> {
        Some(self.engine.next_wakeup().map_or(self.next, |t| t.min(self.next)))
    }
    fn shutdown(&mut self, now: Time) {
        self.engine.shutdown(now);
        self.observe(now);
    }
}

/// One peer as the serving log sees it.
struct Served {
    addr: SocketAddr,
    agent: String,
    ready_at: Option<Time>,
    last_at: Time,
    total: u64,
}

impl Served {
    fn rate(&self) -> (f64, f64) {
        let secs = self.ready_at.map_or(0.0, |r| self.last_at.saturating_since(r).as_secs_f64());
        let rate = if secs > 0.0 { self.total as f64 / secs } else { 0.0 };
        (secs, rate)
    }
}

/// Turns engine events into one stderr line per served peer milestone.
#[derive(Default)]
pub(super) struct ServeLog {
    peers: HashMap<PeerId, Served>,
    /// Peers that connected so far.
    pub connections: u64,
    /// Headers served to all peers.
    pub headers_served: u64,
}

impl ServeLog {
    pub(super) fn event(&mut self, event: Event, now: Time) {
        match event {
            Event::Connected { peer, addr, link: Link::Inbound } => {
                self.connections += 1;
                let s =
                    Served { addr, agent: String::new(), ready_at: None, last_at: now, total: 0 };
                self.peers.insert(peer, s);
            }
            Event::Ready { peer, remote } => {
                if let Some(s) = self.peers.get_mut(&peer) {
                    s.ready_at = Some(now);
                    s.agent = remote.user_agent;
                }
            }
            Event::Served { peer, count, total } => {
                self.headers_served += count as u64;
                let Some(s) = self.peers.get_mut(&peer) else { return };
                s.total = total;
                s.last_at = now;
                if count < MAX_HEADERS_RESULTS {
                    // A short answer: the peer now holds our whole chain.
                    let (secs, rate) = s.rate();
                    eprintln!(
                        "{peer} {} {:?}: caught up, served {} headers in {secs:.3} s \
                         ({rate:.0} headers/s)",
                        s.addr, s.agent, s.total
                    );
                }
            }
            Event::Disconnected { peer, addr, reason } => {
                let Some(s) = self.peers.remove(&peer) else { return };
                let (secs, rate) = s.rate();
                let why = match reason {
                    DisconnectReason::Closed(Closed::ByPeer) => "closed by peer".to_string(),
                    other => other.to_string(),
                };
                eprintln!(
                    "{peer} {addr} {:?}: disconnected ({why}), served {} headers in {secs:.3} s \
                     ({rate:.0} headers/s)",
                    s.agent, s.total
                );
            }
            Event::StoreFailed { error } => eprintln!("store: {error}"),
            _ => {}
        }
    }
}

/// Runs `bitwire serve` with the arguments after the subcommand name.
pub fn run(args: lexopt::Parser) -> i32 {
    let args = match super::parsed("serve", USAGE, parse(args)) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match serve(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("bitwire serve: {e}");
            1
        }
    }
}

fn serve(args: Args) -> Result<(), String> {
    let params = Params::for_network(args.network);
    let tree = match &args.source {
        Source::Headers(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let headers =
                headers_from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            tree_from_headers(params, headers).map_err(|e| format!("{}: {e}", path.display()))?
        }
        Source::Datadir(dir) => {
            // A snapshot: a `bitwire sync` may be writing the store right now.
            store::snapshot_tree(dir, params).map_err(|e| format!("{}: {e}", dir.display()))?
        }
    };
    let tip = tree.tip();
    let config = net::Config::default().max_connections(args.max_connections.saturating_add(16));
    let mut reactor = Reactor::new(config).map_err(|e| format!("cannot start the reactor: {e}"))?;
    // Before "listening on": whoever reads that line may send Ctrl-C at once.
    if let Err(e) = net::stop_on_ctrl_c(reactor.handle()) {
        eprintln!("bitwire serve: Ctrl-C will not stop cleanly: {e}");
    }
    let mut bound = Vec::new();
    for addr in &args.listen {
        let local = reactor.listen(*addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        eprintln!("listening on {local}");
        bound.push(local);
    }
    eprintln!(
        "serving {} headers of {}: tip {} at height {}",
        tree.len(),
        args.network,
        tip.hash,
        tip.height
    );
    let engine = Engine::new(serve_config(args.network, args.max_connections), tree, None);
    let mut log = ServeLog::default();
    let mut service = Observed::new(engine, Duration::from_secs(1), |engine: &mut Engine, now| {
        while let Some(e) = engine.poll_event() {
            log.event(e, now);
        }
    });
    let (_, stats) = reactor.run(&mut service).map_err(|e| format!("reactor failed: {e}"))?;
    drop(service);
    let listen = super::json::array(bound.iter().map(|a| super::json::string(&a.to_string())));
    println!(
        "{}",
        Obj::new()
            .str("network", args.network.name())
            .raw("listen", &listen)
            .u64("tip_height", u64::from(tip.height))
            .str("tip_hash", &tip.hash.to_string())
            .u64("peers", log.connections)
            .u64("headers_served", log.headers_served)
            .u64("bytes_sent", stats.bytes_written)
            .finish()
    );
    Ok(())
}
