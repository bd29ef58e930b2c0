//! Header validation throughput on the bundled 40,000 mainnet headers, racing
//! rust-bitcoin 0.32 on the same bytes; and reopening a store of a million
//! headers.
//!
//! `cargo bench --bench chain -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use bitwire::chain::mine::mine_chain;
use bitwire::chain::store::load_tree;
use bitwire::chain::{ChainWindow, HeaderStore, HeaderTree, Params};
use bitwire::pow::{check_proof_of_work, hash_headers};
use bitwire::wire::BlockHeader;
use bitwire::Network;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use zerocopy::FromBytes;

const NOW: u64 = 2_000_000_000;

fn mainnet() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    std::fs::read(path).expect("bundled chain")
}

/// rust-bitcoin 0.32's job on raw headers: decode each, then `validate_pow`
/// (which computes its `block_hash`); the last block hash.
#[inline(always)]
fn rust_bitcoin_decode_hash_pow(bytes: &[u8]) -> Option<bitcoin::BlockHash> {
    use bitcoin::consensus::Decodable;
    let mut last = None;
    for chunk in bytes.chunks_exact(80) {
        let h = bitcoin::block::Header::consensus_decode(&mut &chunk[..]).unwrap();
        last = Some(h.validate_pow(h.target()).unwrap());
    }
    last
}

fn validate(c: &mut Criterion) {
    let bytes = mainnet();
    let n = bytes.len() / 80;
    let main = Params::for_network(Network::Main);
    let mut g = c.benchmark_group("validate_mainnet_40k");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(20);

    // Everything `bitwire validate` does on a chain, on one core: view, batch
    // hash, PoW, parent link, retarget, median time, future time, version,
    // chainwork, in a fixed window (`ChainWindow`: nothing stored; hash a
    // chunk, validate it, next).
    g.bench_function("bitwire_full_rules_streaming", |b| {
        b.iter(|| {
            let headers = <[BlockHeader]>::ref_from_bytes(&bytes).unwrap();
            let mut window = ChainWindow::new(main);
            window.extend_par_threads(&headers[1..], NOW, 1).unwrap();
            black_box(window.tip_hash())
        })
    });
    // The same on every core (hashing on both, overlapped with the rules).
    g.bench_function("bitwire_full_rules_streaming_all_cores", |b| {
        b.iter(|| {
            let headers = <[BlockHeader]>::ref_from_bytes(&bytes).unwrap();
            let mut window = ChainWindow::new(main);
            window.extend_par(&headers[1..], NOW).unwrap();
            black_box(window.tip_hash())
        })
    });

    // Every rule and the header tree, as a sync validates (the tree serves
    // getheaders and follows forks), on one core: the same rules, plus the
    // insert into `HeaderTree` (`accept_par_threads` with one thread).
    g.bench_function("bitwire_full_rules", |b| {
        b.iter(|| {
            let headers = <[BlockHeader]>::ref_from_bytes(&bytes).unwrap();
            let mut tree = HeaderTree::new(main);
            tree.reserve(n);
            tree.accept_par_threads(headers, NOW, 1).unwrap();
            black_box(tree.tip())
        })
    });

    // The same on every core (hashing on both cores, overlapped with the
    // rules and the tree).
    g.bench_function("bitwire_full_rules_all_cores", |b| {
        b.iter(|| {
            let headers = <[BlockHeader]>::ref_from_bytes(&bytes).unwrap();
            let mut tree = HeaderTree::new(main);
            tree.reserve(n);
            tree.accept_par(headers, NOW).unwrap();
            black_box(tree.tip())
        })
    });

    // The same work as the rust-bitcoin line below: view, hash, proof of work.
    g.bench_function("bitwire_hash_and_pow", |b| {
        b.iter(|| {
            let headers = <[BlockHeader]>::ref_from_bytes(&bytes).unwrap();
            let mut hashes = Vec::with_capacity(n);
            hash_headers(headers, &mut hashes);
            for (h, hash) in headers.iter().zip(&hashes) {
                check_proof_of_work(hash, h.bits(), &main.pow_limit).unwrap();
            }
            black_box(hashes.len())
        })
    });

    // rust-bitcoin 0.32: decode, then validate_pow (which computes block_hash).
    g.bench_function("rust_bitcoin_decode_hash_pow", |b| {
        b.iter(|| black_box(rust_bitcoin_decode_hash_pow(&bytes)))
    });
    // The same rust-bitcoin job on every core (the headers split evenly, one
    // scoped thread per core), to race `bitwire_full_rules_all_cores` fairly.
    g.bench_function("rust_bitcoin_decode_hash_pow_all_cores", |b| {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let per = n.div_ceil(cores) * 80;
        b.iter(|| {
            std::thread::scope(|s| {
                let workers: Vec<_> = bytes
                    .chunks(per)
                    .map(|part| s.spawn(move || rust_bitcoin_decode_hash_pow(part)))
                    .collect();
                black_box(workers.into_iter().map(|w| w.join().unwrap()).last())
            })
        })
    });
    g.finish();
}

fn store_reopen(c: &mut Criterion) {
    const COUNT: usize = 1_000_000;
    let p = Params::for_network(Network::Regtest);
    let dir = std::env::temp_dir().join(format!("bitwire-bench-store-{}", std::process::id()));
    let mut g = c.benchmark_group("store_reopen_1m");
    g.throughput(Throughput::Elements(COUNT as u64));
    g.sample_size(10);
    g.bench_function("load_tree", |b| {
        // Built here, so a filter that skips this bench skips mining too.
        let _ = std::fs::remove_dir_all(&dir);
        {
            let chain = mine_chain(p, &p.genesis(), COUNT, 600, 0);
            let (mut store, _) = HeaderStore::open(&dir, Network::Regtest).unwrap();
            for batch in chain.chunks(2000) {
                store.append(batch).unwrap();
            }
        }
        b.iter(|| {
            let (tree, store) = load_tree(&dir, p).unwrap();
            assert_eq!(tree.tip().height as usize, COUNT);
            black_box(store.len())
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, validate, store_reopen);
criterion_main!(benches);
