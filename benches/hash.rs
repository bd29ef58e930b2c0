//! sha256d of the 40,000 bundled mainnet headers: the sha2 crate one header at
//! a time (the baseline), rust-bitcoin's `Header::block_hash`, every kernel of
//! this machine on one core, and `par_hash_headers` on every core, in one run.
//!
//! `cargo bench --bench hash -- --warm-up-time 1 --measurement-time 3`

use bitcoin::consensus::encode::deserialize;
use bitwire::pow::{self, Kernel};
use bitwire::wire::{BlockHash, BlockHeader};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use sha2::{Digest, Sha256};

fn mainnet() -> Vec<BlockHeader> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).expect("bundled mainnet headers");
    bytes.chunks_exact(80).map(|c| *BlockHeader::view(c).expect("80 bytes")).collect()
}

fn hashing(c: &mut Criterion) {
    let headers = mainnet();
    let theirs: Vec<bitcoin::block::Header> =
        headers.iter().map(|h| deserialize(h.bytes()).expect("valid header")).collect();
    let mut out: Vec<BlockHash> = Vec::with_capacity(headers.len());

    let mut g = c.benchmark_group("sha256d_40k_mainnet_headers");
    g.throughput(Throughput::Elements(headers.len() as u64));
    g.bench_function("sha2_one_at_a_time", |b| {
        b.iter(|| {
            out.clear();
            out.extend(
                black_box(&headers)
                    .iter()
                    .map(|h| BlockHash(Sha256::digest(Sha256::digest(h.bytes())).into())),
            );
        })
    });
    let mut their_out: Vec<bitcoin::BlockHash> = Vec::with_capacity(headers.len());
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
    g.bench_function(format!("hash_headers_one_core_{}", Kernel::best().name()), |b| {
        b.iter(|| {
            out.clear();
            pow::hash_headers(black_box(&headers), &mut out);
        })
    });
    g.bench_function("par_hash_headers_all_cores", |b| {
        b.iter(|| {
            out.clear();
            pow::par_hash_headers(black_box(&headers), &mut out);
        })
    });
    g.finish();

    // One `headers` message: 2000 headers, the validator's unit of work.
    let msg = &headers[..2000];
    let mut g = c.benchmark_group("sha256d_2000_headers");
    g.throughput(Throughput::Elements(msg.len() as u64));
    g.bench_function("sha2_one_at_a_time", |b| {
        b.iter(|| {
            out.clear();
            out.extend(
                black_box(msg)
                    .iter()
                    .map(|h| BlockHash(Sha256::digest(Sha256::digest(h.bytes())).into())),
            );
        })
    });
    g.bench_function("hash_headers", |b| {
        b.iter(|| {
            out.clear();
            pow::hash_headers(black_box(msg), &mut out);
        })
    });
    g.finish();

    // A single header: block_hash against rust-bitcoin.
    let one = &headers[12345];
    let mut g = c.benchmark_group("sha256d_one_header");
    g.throughput(Throughput::Elements(1));
    g.bench_function("block_hash", |b| b.iter(|| pow::block_hash(black_box(one))));
    g.bench_function("rust_bitcoin_block_hash", |b| {
        b.iter(|| black_box(&theirs[12345]).block_hash())
    });
    g.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
