//! sha256d of the 40,000 bundled mainnet headers, in one run:
//!
//! - one core, measured in thread CPU time (so other processes on a shared
//!   machine do not blur the ratios): the `sha2` crate one header at a time
//!   (the baseline), rust-bitcoin's `Header::block_hash`, every kernel of this
//!   machine, `hash_headers`; and single headers;
//! - all cores, in wall-clock time: `hash_headers` against `par_hash_headers`
//!   (and two threads forced on) on batch sizes around the parallel threshold;
//! - the same two in total process CPU time: what the split costs;
//! - `best_of_wall_clock`: a table of the minimum wall-clock time per header
//!   over many runs (sha2 loop, `hash_headers`, `par_hash_headers`), which
//!   approximates an idle machine even on a busy one.
//!
//! `cargo bench --bench hash -- --warm-up-time 1 --measurement-time 3`

use std::time::Duration;

use bitcoin::consensus::encode::deserialize;
use bitwire::pow::{self, Kernel};
use bitwire::wire::{BlockHash, BlockHeader};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{black_box, criterion_group, Criterion, Throughput};
use sha2::{Digest, Sha256};

/// CPU time consumed by the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
struct ThreadCpuTime;

/// CPU time consumed by every thread of the process (`CLOCK_PROCESS_CPUTIME_ID`):
/// what `par_hash_headers` costs in total, overhead of its threads included.
struct ProcessCpuTime;

fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, exclusive `timespec` for the call to fill; both
    // CPU-time clocks are supported on every Linux since 2.6.12.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

macro_rules! cpu_measurement {
    ($ty:ty, $clock:expr) => {
        impl Measurement for $ty {
            type Intermediate = Duration;
            type Value = Duration;
            fn start(&self) -> Duration {
                cpu_time($clock)
            }
            fn end(&self, start: Duration) -> Duration {
                cpu_time($clock) - start
            }
            fn add(&self, a: &Duration, b: &Duration) -> Duration {
                *a + *b
            }
            fn zero(&self) -> Duration {
                Duration::ZERO
            }
            fn to_f64(&self, value: &Duration) -> f64 {
                value.as_nanos() as f64
            }
            fn formatter(&self) -> &dyn ValueFormatter {
                static WALL: WallTime = WallTime;
                WALL.formatter()
            }
        }
    };
}
cpu_measurement!(ThreadCpuTime, libc::CLOCK_THREAD_CPUTIME_ID);
cpu_measurement!(ProcessCpuTime, libc::CLOCK_PROCESS_CPUTIME_ID);

fn mainnet() -> Vec<BlockHeader> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).expect("bundled mainnet headers");
    bytes.chunks_exact(80).map(|c| *BlockHeader::view(c).expect("80 bytes")).collect()
}

fn sha2_loop(headers: &[BlockHeader], out: &mut Vec<BlockHash>) {
    out.clear();
    out.extend(headers.iter().map(|h| BlockHash(Sha256::digest(Sha256::digest(h.bytes())).into())));
}

fn one_core(c: &mut Criterion<ThreadCpuTime>) {
    let headers = mainnet();
    let theirs: Vec<bitcoin::block::Header> =
        headers.iter().map(|h| deserialize(h.bytes()).expect("valid header")).collect();
    let mut out: Vec<BlockHash> = Vec::with_capacity(headers.len());
    let mut their_out: Vec<bitcoin::BlockHash> = Vec::with_capacity(headers.len());

    let mut g = c.benchmark_group("one_core_40k_mainnet_headers");
    g.throughput(Throughput::Elements(headers.len() as u64));
    g.bench_function("sha2_one_at_a_time", |b| b.iter(|| sha2_loop(black_box(&headers), &mut out)));
    g.bench_function("rust_bitcoin_block_hash", |b| {
        b.iter(|| {
            their_out.clear();
            their_out.extend(black_box(&theirs).iter().map(|h| h.block_hash()));
        })
    });
    for k in Kernel::available() {
        g.bench_function(format!("kernel_{}", k.name()), |b| {
            b.iter(|| {
                out.clear();
                k.hash_headers(black_box(&headers), &mut out);
            })
        });
    }
    g.bench_function(format!("hash_headers_{}", Kernel::best().name()), |b| {
        b.iter(|| {
            out.clear();
            pow::hash_headers(black_box(&headers), &mut out);
        })
    });
    g.finish();

    // A single header: block_hash against rust-bitcoin.
    let one = &headers[12345];
    let mut g = c.benchmark_group("one_core_single_header");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sha2", |b| {
        b.iter(|| -> [u8; 32] { Sha256::digest(Sha256::digest(black_box(one).bytes())).into() })
    });
    g.bench_function("block_hash", |b| b.iter(|| pow::block_hash(black_box(one))));
    g.bench_function("rust_bitcoin_block_hash", |b| {
        b.iter(|| black_box(&theirs[12345]).block_hash())
    });
    g.finish();
}

fn all_cores(c: &mut Criterion) {
    let headers = mainnet();
    let mut out: Vec<BlockHash> = Vec::with_capacity(headers.len());
    // Where spreading over cores starts to pay, up to the whole 40k chain.
    for n in [2000usize, 4096, 8192, 16384, 40000] {
        let batch = &headers[..n];
        let mut g = c.benchmark_group(format!("all_cores_{n}_headers"));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function("sha2_one_at_a_time", |b| {
            b.iter(|| sha2_loop(black_box(batch), &mut out))
        });
        g.bench_function("hash_headers_one_core", |b| {
            b.iter(|| {
                out.clear();
                pow::hash_headers(black_box(batch), &mut out);
            })
        });
        g.bench_function("par_hash_headers", |b| {
            b.iter(|| {
                out.clear();
                pow::par_hash_headers(black_box(batch), &mut out);
            })
        });
        // Two threads whatever the threshold says: what a smaller one would give.
        g.bench_function("two_threads_forced", |b| {
            b.iter(|| {
                out.clear();
                out.resize(n, BlockHash::ZERO);
                let (h0, h1) = black_box(batch).split_at(n / 2);
                let (o0, o1) = out.split_at_mut(n / 2);
                let half = |h: &[BlockHeader], o: &mut [BlockHash]| {
                    let mut v = Vec::with_capacity(h.len());
                    Kernel::best().hash_headers(h, &mut v);
                    o.copy_from_slice(&v);
                };
                std::thread::scope(|s| {
                    s.spawn(|| half(h1, o1));
                    half(h0, o0);
                });
            })
        });
        g.finish();
    }
}

/// The total CPU time of `par_hash_headers` against one core's: how much of
/// the cores' time the split wastes (wall-clock speed-up is at most
/// cores x this ratio, and reaches it on an otherwise idle machine).
fn par_cost(c: &mut Criterion<ProcessCpuTime>) {
    let headers = mainnet();
    let mut out: Vec<BlockHash> = Vec::with_capacity(headers.len());
    for n in [8192usize, 40000] {
        let batch = &headers[..n];
        let mut g = c.benchmark_group(format!("cpu_total_{n}_headers"));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function("hash_headers_one_core", |b| {
            b.iter(|| {
                out.clear();
                pow::hash_headers(black_box(batch), &mut out);
            })
        });
        g.bench_function("par_hash_headers", |b| {
            b.iter(|| {
                out.clear();
                pow::par_hash_headers(black_box(batch), &mut out);
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = par_process_cpu_time;
    config = Criterion::default().with_measurement(ProcessCpuTime);
    targets = par_cost
}
criterion_group! {
    name = one_core_cpu_time;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = one_core
}
criterion_group!(all_cores_wall_time, all_cores);
/// Wall-clock best of many runs: a run that no other process interrupted is
/// as fast as an idle machine's, so the minimum stands for one even on a
/// busy shared machine, where criterion's means of the all-core rows do not.
/// Printed as a table after the criterion groups (criterion has no minimum).
fn best_of_wall_clock() {
    use std::time::Instant;
    let headers = mainnet();
    let mut out: Vec<BlockHash> = Vec::with_capacity(headers.len());
    println!("\nbest_of_wall_clock (ns per header, minimum over the runs)");
    println!(
        "{:>7} {:>5} {:>10} {:>12} {:>10} {:>9} {:>9}",
        "headers", "runs", "sha2 loop", "hash_headers", "par_hash", "par/one", "one/sha2"
    );
    for (n, runs) in [(8192usize, 2000u32), (40000, 500)] {
        let batch = &headers[..n];
        let mut best = |f: &mut dyn FnMut(&mut Vec<BlockHash>)| {
            let mut min = f64::INFINITY;
            for _ in 0..runs {
                let t = Instant::now();
                f(&mut out);
                min = min.min(t.elapsed().as_nanos() as f64 / n as f64);
            }
            min
        };
        let sha2 = best(&mut |o| sha2_loop(black_box(batch), o));
        let one = best(&mut |o| {
            o.clear();
            pow::hash_headers(black_box(batch), o);
        });
        let par = best(&mut |o| {
            o.clear();
            pow::par_hash_headers(black_box(batch), o);
        });
        println!(
            "{n:>7} {runs:>5} {sha2:>10.1} {one:>12.1} {par:>10.1} {:>8.2}x {:>8.2}x",
            one / par,
            sha2 / one
        );
    }
}

fn main() {
    one_core_cpu_time();
    all_cores_wall_time();
    par_process_cpu_time();
    // Unless a criterion filter that excludes it was given.
    let filter =
        std::env::args().skip(1).rfind(|a| !a.starts_with('-') && a.parse::<f64>().is_err());
    if filter.is_none_or(|f| "best_of_wall_clock".contains(f.as_str())) {
        best_of_wall_clock();
    }
    Criterion::default().configure_from_args().final_summary();
}
