//! `bitwire bench [--headers N] [--file FILE --network NAME] [--runs R] [--peers LIST]`:
//! the headline numbers on this machine. Hashes, validates and syncs the same
//! headers (a generated regtest chain, or a file) and prints one table of
//! headers per second with the ratios issue 6 asks about; `--write FILE` only
//! writes the generated chain.
//!
//! Each row is the best of `--runs` wall-clock runs (the best, not the mean:
//! on a shared machine the other processes only ever slow a run down).
//! rust-bitcoin is a dev-dependency only, so its rows live in the criterion
//! benches (`cargo bench --bench chain`, `--bench hash`, `--bench wire`,
//! `--bench sync`); this table's references are the bare `sha2` loop and
//! the machine's batched hashing limit.
//!
//! Exit status: 0 done, 1 the headers are invalid or a sync failed, 2 bad
//! arguments or an unreadable file.

use std::hint::black_box;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use bitwire::chain::mine::generate_chain;
use bitwire::chain::{ChainWindow, HeaderError, HeaderTree, Params, PAR_CHUNK_HEADERS};
use bitwire::net::{self, Reactor, Running};
use bitwire::pow::{hash_headers, par_hash_headers, Kernel};
use bitwire::sync::{Config, Engine, MAX_HEADERS_RESULTS};
use bitwire::wire::msg::Headers;
use bitwire::wire::{checksum, write_message, BlockHash, BlockHeader, ENVELOPE_SIZE};
use bitwire::Network;
use sha2::{Digest, Sha256};

use super::headers_from_bytes;
use super::serve::{network_arg, nonce_seed, serve_config};

const USAGE: &str = "\
USAGE:
    bitwire bench [--headers N] [--runs R] [--peers LIST] [--no-sync]
    bitwire bench --file FILE --network NAME [--runs R] [--peers LIST] [--no-sync]
    bitwire bench --headers N --write FILE

Times, on the same headers: sha256d with a plain sha2 loop, bitwire's batched
hashing on one core and on every core, the envelope checksums of the `headers`
messages that carry them, full validation (every Bitcoin Core header rule) as
`bitwire validate` does it (nothing stored) and into the header tree (as a sync
does it), each on one core and on every core, and a loopback sync through the
mio reactor from each number of serving peers in LIST. Prints headers/s per row
and the ratios between them, with the limit of a loopback sync on this machine:
every header hashed once and every message's checksum computed twice (serving
and syncing side), spread over every core; then the same with the header tree's
own cost per header (validation into the tree minus validation alone).

OPTIONS:
    --headers N     generate a regtest chain of N headers (default 1000000)
                    with realistic timestamps (400 s apart on average)
    --file FILE     use raw 80-byte headers from FILE instead, starting at the
                    genesis of --network (e.g. corpus/vectors/headers/mainnet_0_39999.bin)
    --network NAME  the network of --file (main, testnet3, testnet4, signet, regtest)
    --runs R        runs per row, the best is shown (default 5)
    --peers LIST    comma-separated serving-peer counts for the sync rows (default 1,8)
    --no-sync       skip the sync rows
    --write FILE    write the generated chain (genesis first) to FILE and exit; it
                    validates with `bitwire validate --network regtest FILE` and
                    serves with `bitwire serve --network regtest --headers FILE`
";

/// The row of the envelope checksums of the `headers` messages.
const CHECKSUM: &str = "envelope checksum of the headers messages";

/// The rows of full validation as `bitwire validate` does it on a chain.
const VALIDATE: &str = "bitwire validate (every rule, nothing stored)";
/// The rows of full validation into the header tree, as a sync does it.
const INTO_TREE: &str = "bitwire validate into the header tree (every rule + tree)";

/// Mean block spacing of generated chains: a million headers from regtest's
/// genesis (2011) then end in 2023, before any clock this runs under.
const SPACING: u32 = 400;

struct Args {
    count: usize,
    file: Option<PathBuf>,
    network: Option<Network>,
    runs: usize,
    peers: Vec<usize>,
    sync: bool,
    write: Option<PathBuf>,
}

fn parse(mut p: lexopt::Parser) -> Result<Option<Args>, String> {
    use lexopt::prelude::*;
    let mut a = Args {
        count: 1_000_000,
        file: None,
        network: None,
        runs: 5,
        peers: vec![1, 8],
        sync: true,
        write: None,
    };
    let num = |v: std::ffi::OsString, what: &str| -> Result<usize, String> {
        v.parse::<usize>().map_err(|e| format!("{what}: expected a number: {e}"))
    };
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("headers") => a.count = num(p.value().map_err(|e| e.to_string())?, "--headers")?,
            Long("file") => a.file = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?)),
            Long("network") => {
                a.network = Some(network_arg(p.value().map_err(|e| e.to_string())?)?)
            }
            Long("runs") => a.runs = num(p.value().map_err(|e| e.to_string())?, "--runs")?.max(1),
            Long("peers") => {
                let v = p.value().map_err(|e| e.to_string())?;
                let s = v.to_str().ok_or("--peers: not UTF-8")?;
                a.peers = s
                    .split(',')
                    .map(|n| match n.trim().parse::<usize>() {
                        Ok(0) | Err(_) => {
                            Err(format!("--peers: expected counts >= 1, found {n:?}"))
                        }
                        Ok(n) => Ok(n),
                    })
                    .collect::<Result<_, _>>()?;
            }
            Long("no-sync") => a.sync = false,
            Long("write") => a.write = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?)),
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if a.file.is_some() != a.network.is_some() {
        return Err("--file and --network go together".into());
    }
    if a.file.is_some() && a.write.is_some() {
        return Err("--write writes a generated chain; it takes no --file".into());
    }
    if a.file.is_none() && a.count == 0 {
        return Err("--headers: expected at least 1".into());
    }
    Ok(Some(a))
}

/// Runs `bitwire bench` with the arguments after the subcommand name.
pub fn run(args: lexopt::Parser) -> i32 {
    let args = match super::parsed("bench", USAGE, parse(args)) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match bench(&args) {
        Ok(()) => 0,
        Err((code, e)) => {
            eprintln!("bitwire bench: {e}");
            code
        }
    }
}

/// The headers to work on, genesis first, and their network.
fn load(args: &Args) -> Result<(Vec<BlockHeader>, Network, String), (i32, String)> {
    if let (Some(file), Some(network)) = (&args.file, args.network) {
        let bytes = std::fs::read(file).map_err(|e| (2, format!("{}: {e}", file.display())))?;
        let headers =
            headers_from_bytes(&bytes).map_err(|e| (2, format!("{}: {e}", file.display())))?;
        let genesis = Params::for_network(network).genesis_hash;
        if headers[0].block_hash() != genesis {
            return Err((2, format!("{}: expected the {network} genesis first", file.display())));
        }
        return Ok((headers.to_vec(), network, file.display().to_string()));
    }
    let p = Params::for_network(Network::Regtest);
    let started = Instant::now();
    let mut headers = Vec::with_capacity(args.count + 1);
    headers.push(p.genesis());
    headers.extend(generate_chain(p, &p.genesis(), p.genesis_hash, args.count, SPACING, 1));
    let what = format!(
        "a generated regtest chain (genesis + {} headers, {:.2} s to generate)",
        args.count,
        started.elapsed().as_secs_f64()
    );
    Ok((headers, Network::Regtest, what))
}

/// The best of `runs` timings of `f`, in seconds.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The reference: sha2's sha256d, one header at a time.
fn sha2_loop(headers: &[BlockHeader], out: &mut Vec<BlockHash>) {
    out.clear();
    out.extend(headers.iter().map(|h| BlockHash(Sha256::digest(Sha256::digest(h.bytes())).into())));
}

fn bench(args: &Args) -> Result<(), (i32, String)> {
    let (headers, network, what) = load(args)?;
    if let Some(path) = &args.write {
        let bytes: Vec<u8> = headers.iter().flat_map(|h| h.bytes().iter().copied()).collect();
        std::fs::write(path, bytes).map_err(|e| (2, format!("{}: {e}", path.display())))?;
        eprintln!("wrote {} headers (genesis first) to {}", headers.len(), path.display());
        return Ok(());
    }
    let params = Params::for_network(network);
    let n = headers.len();
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let runs = args.runs;
    // Validation's clock: after the last header, so the future-time rule holds.
    let now = headers.iter().map(|h| u64::from(h.time())).max().unwrap_or(0) + 1;

    let validate = |threads: usize| -> Result<HeaderTree, (i32, String)> {
        let mut tree = HeaderTree::new(params);
        tree.reserve(n);
        tree.accept_par_threads(&headers, now, threads)
            .map_err(|rej| (1, format!("header {} is invalid: {rej}", rej.index)))?;
        Ok(tree)
    };
    let tree = validate(cores)?; // also checks the headers before timing anything
    let tip = tree.tip().hash;

    let mut out = Vec::with_capacity(n);
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut row = |name: String, secs: f64| {
        eprintln!("{name}: {:.0} headers/s", n as f64 / secs);
        rows.push((name, secs));
    };
    let kernel = Kernel::best().name();
    row(
        "sha2 crate, sha256d one header at a time, 1 core".into(),
        best(runs, || sha2_loop(&headers, &mut out)),
    );
    // Chunk by chunk into one small buffer, as validation hashes: the
    // fastest way to hash the batch on one core (into one buffer for the
    // whole batch, a million headers write 32 MB, about 5% slower).
    let mut chunk_out = Vec::with_capacity(PAR_CHUNK_HEADERS);
    row(
        format!("bitwire hash_headers ({kernel}), 1 core"),
        best(runs, || {
            for chunk in headers.chunks(PAR_CHUNK_HEADERS) {
                chunk_out.clear();
                hash_headers(chunk, &mut chunk_out);
                black_box(&chunk_out);
            }
        }),
    );
    row(
        format!("bitwire par_hash_headers, {cores} cores"),
        best(runs, || {
            out.clear();
            par_hash_headers(&headers, &mut out)
        }),
    );
    // A sync's own hashing: the checksum of every `headers` message, which
    // the serving side computes and the syncing side verifies. One message's
    // checksum is one sha256d over its whole payload (162 KB for 2000
    // headers): a single chain of compressions, which cannot be interleaved
    // the way independent headers are. A sync checksums a payload it has just
    // written or received, so it is in the cache: the row checksums one
    // message's payload (the first) once per message of the chain. Read
    // from memory, the million headers' 81 MB took 60% longer here.
    let message = headers_message(&headers[1..], network);
    let payload = &message[ENVELOPE_SIZE..];
    let messages = (n - 1).div_ceil(MAX_HEADERS_RESULTS);
    row(
        format!("{CHECKSUM} ({MAX_HEADERS_RESULTS} headers each), 1 core"),
        best(runs, || (0..messages).fold(0u8, |acc, _| acc ^ checksum(black_box(payload))[0])),
    );
    // `bitwire validate` of a chain: every rule, nothing stored (`ChainWindow`).
    let check = |threads: usize| -> Result<BlockHash, (i32, String)> {
        let mut window = ChainWindow::new(params);
        window.extend_par_threads(&headers[1..], now, threads).map_err(|rej| match rej.error {
            HeaderError::PrevBlkNotFound { .. } => (
                1,
                format!("header {} does not follow the one before it: not a chain", rej.index + 1),
            ),
            _ => (1, format!("header {} is invalid: {rej}", rej.index + 1)),
        })?;
        Ok(window.tip_hash())
    };
    if check(cores)? != tip {
        return Err((1, "the window and the tree disagree on the tip".into()));
    }
    let mut failed = None;
    let mut timed = |f: &dyn Fn(usize) -> Result<(), (i32, String)>, threads: usize| {
        best(runs, || {
            if let Err(e) = f(threads) {
                failed = Some(e);
            }
        })
    };
    let window_rows = [timed(&|t| check(t).map(drop), 1), timed(&|t| check(t).map(drop), cores)];
    let tree_rows =
        [timed(&|t| validate(t).map(drop), 1), timed(&|t| validate(t).map(drop), cores)];
    if let Some(e) = failed {
        return Err(e);
    }
    row(format!("{VALIDATE}, 1 core"), window_rows[0]);
    row(format!("{VALIDATE}, {cores} cores"), window_rows[1]);
    row(format!("{INTO_TREE}, 1 core"), tree_rows[0]);
    row(format!("{INTO_TREE}, {cores} cores"), tree_rows[1]);
    drop(out);

    if args.sync {
        for &peers in &args.peers {
            let servers = Servers::start(params, &tree, peers)?;
            let secs = (0..runs.min(3))
                .map(|_| sync_once(params, &tree, n, &servers.addrs))
                .try_fold(f64::INFINITY, |best, run| run.map(|secs| best.min(secs)));
            servers.stop();
            row(format!("bitwire sync over loopback from {peers} peer(s)"), secs?);
        }
    }

    let rate = |name: &str| -> f64 {
        rows.iter().find(|(r, _)| r.starts_with(name)).map_or(0.0, |(_, s)| n as f64 / s)
    };
    let sha2 = rate("sha2 crate");
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "bitwire bench: {n} headers: {what}; tip {tip}; best of {runs} runs");
    let _ = writeln!(o);
    let _ = writeln!(o, "| what | headers/s | vs sha2 loop |");
    let _ = writeln!(o, "|---|---:|---:|");
    for (name, secs) in &rows {
        let r = n as f64 / secs;
        let _ = writeln!(o, "| {name} | {r:.0} | {:.2}x |", r / sha2);
    }
    let _ = writeln!(o);
    let h1 = rate("bitwire hash_headers");
    let (v1, vn) = (n as f64 / window_rows[0], n as f64 / window_rows[1]);
    let (t1, tn) = (n as f64 / tree_rows[0], n as f64 / tree_rows[1]);
    let _ = writeln!(o, "| ratio | value | target |");
    let _ = writeln!(o, "|---|---:|---:|");
    let _ = writeln!(o, "| batched hashing / sha2 loop, 1 core | {:.2}x | >= 1.5x |", h1 / sha2);
    let _ =
        writeln!(o, "| validate / batched hashing, 1 core | {:.0}% | >= 90% |", 100.0 * v1 / h1);
    // `par_hash_headers` writes one buffer for the whole batch (32 MB for a
    // million headers), where validation hashes chunk by chunk into small
    // ones: the fair reference on every core is the one-core chunked rate
    // times the cores, which no real run reaches.
    let _ = writeln!(
        o,
        "| validate {cores} cores / ({cores} x batched hashing 1 core) | {:.0}% | |",
        100.0 * vn / (h1 * cores as f64)
    );
    let _ = writeln!(o, "| validate {cores} cores / 1 core | {:.2}x | >= 1.8x |", vn / v1);
    let _ = writeln!(o, "| into the tree / batched hashing, 1 core | {:.0}% | |", 100.0 * t1 / h1);
    let _ = writeln!(o, "| into the tree {cores} cores / 1 core | {:.2}x | |", tn / t1);
    // What any loopback sync on this machine must do at the least, spread
    // perfectly over every core: hash every header once (batched, as
    // validation does) and every message's checksum twice (computed by the
    // serving side, verified by the syncing one); and, with the tree, build
    // it too (its cost per header: validation into the tree minus validation
    // that stores nothing, on one core). The sync rows are compared with both.
    let c1 = rate(CHECKSUM);
    let hashing = 1.0 / h1 + 2.0 / c1;
    let tree_cost = (1.0 / t1 - 1.0 / v1).max(0.0);
    let limit = cores as f64 / hashing;
    let limit_tree = cores as f64 / (hashing + tree_cost);
    if args.sync {
        let _ = writeln!(
            o,
            "| loopback sync's hashing limit ({cores} cores: headers + both checksums) / validate, 1 core | {:.0}% | |",
            100.0 * limit / v1
        );
        let _ = writeln!(
            o,
            "| the same limit with the tree's cost / validate, 1 core | {:.0}% | |",
            100.0 * limit_tree / v1
        );
    }
    for (name, secs) in rows.iter().filter(|(r, _)| r.starts_with("bitwire sync")) {
        // A sync builds the header tree (to serve it, and to follow forks),
        // so the target is set against validation into the tree; the rows
        // after it compare with validation that stores nothing and with the
        // two limits above.
        let sync = n as f64 / secs;
        let name = name.trim_start_matches("bitwire ");
        let _ =
            writeln!(o, "| {name} / into the tree, 1 core | {:.0}% | >= 70% |", 100.0 * sync / t1);
        let _ = writeln!(
            o,
            "| {name} / into the tree, {cores} cores | {:.0}% | >= 70% |",
            100.0 * sync / tn
        );
        let _ = writeln!(o, "| {name} / validate, 1 core | {:.0}% | |", 100.0 * sync / v1);
        let _ = writeln!(o, "| {name} / its hashing limit | {:.0}% | |", 100.0 * sync / limit);
        let _ = writeln!(
            o,
            "| {name} / its limit with the tree | {:.0}% | |",
            100.0 * sync / limit_tree
        );
    }
    Ok(())
}

/// The first `headers` message a serving peer sends for `headers` (at most
/// [`MAX_HEADERS_RESULTS`] of them), envelope and payload.
fn headers_message(headers: &[BlockHeader], network: Network) -> Vec<u8> {
    let first = &headers[..headers.len().min(MAX_HEADERS_RESULTS)];
    let mut m = Vec::new();
    write_message(&mut m, network.magic(), &Headers(first));
    m
}

/// Serving engines, each on its own reactor thread with a copy of the
/// tree, and their addresses. Started once for all the runs of a sync row:
/// a serving node is up before its peers connect, and eight copies of a
/// million-header tree (a gigabyte of fresh pages) made just before each
/// run slowed the run down by about 5%.
struct Servers {
    running: Vec<Running<Engine>>,
    addrs: Vec<SocketAddr>,
}

impl Servers {
    fn start(params: &Params, tree: &HeaderTree, peers: usize) -> Result<Servers, (i32, String)> {
        let fail = |e: String| (1, e);
        let mut servers = Servers { running: Vec::new(), addrs: Vec::new() };
        for i in 0..peers {
            let mut reactor = Reactor::new(net::Config::default())
                .map_err(|e| fail(format!("cannot start a serving reactor: {e}")))?;
            let addr = reactor
                .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
                .map_err(|e| fail(format!("cannot listen on loopback: {e}")))?;
            let engine = Engine::new(serve_config(params.network, 64), tree.clone(), None);
            let running = reactor
                .spawn(&format!("bitwire-bench-serve-{i}"), engine)
                .map_err(|e| fail(format!("cannot start a serving reactor: {e}")))?;
            servers.running.push(running);
            servers.addrs.push(addr);
        }
        Ok(servers)
    }

    fn stop(self) {
        for s in self.running {
            let _ = s.stop();
        }
    }
}

/// One loopback sync of `tree`'s best chain from the serving engines at
/// `addrs` into a fresh tree on this thread's reactor (every `headers`
/// message's checksum verified, every rule checked, no store). Returns the
/// seconds from the first dial to synced.
fn sync_once(
    params: &Params,
    tree: &HeaderTree,
    n: usize,
    addrs: &[SocketAddr],
) -> Result<f64, (i32, String)> {
    let fail = |e: String| (1, e);
    let peers = addrs.len();
    let mut config = Config::new(params.network);
    config.connect = addrs.to_vec();
    config.stop_when_synced = true;
    config.min_chain_work = None;
    config.nonce_seed = nonce_seed();
    let reactor = Reactor::new(net::Config::default().max_connections(peers + 64))
        .map_err(|e| fail(format!("cannot start the reactor: {e}")))?;
    // Timed from the empty tree on, as the validate rows are: the tree's
    // memory is part of the job.
    let started = Instant::now();
    let mut fresh = HeaderTree::new(params);
    fresh.reserve(n);
    let mut engine = Engine::new(config, fresh, None);
    let result = reactor.run(&mut engine);
    let secs = started.elapsed().as_secs_f64();
    result.map_err(|e| fail(format!("reactor failed: {e}")))?;
    if engine.tree().tip().hash != tree.tip().hash {
        return Err(fail(format!(
            "the sync from {peers} peer(s) ended at height {}, expected {}",
            engine.height(),
            tree.tip().height
        )));
    }
    Ok(secs)
}
