//! Every sha256d kernel, every batch API, against the `sha2` crate one header
//! at a time, on random headers and on the bundled real mainnet chain.

use bitwire::pow::{self, Kernel};
use bitwire::wire::{BlockHash, BlockHeader};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// sha2, one header at a time: the reference every kernel must match.
fn reference(header: &BlockHeader) -> BlockHash {
    BlockHash(Sha256::digest(Sha256::digest(header.bytes())).into())
}

fn mainnet() -> Vec<BlockHeader> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).expect("bundled mainnet headers");
    assert_eq!(bytes.len(), 40_000 * 80);
    bytes.chunks_exact(80).map(|c| *BlockHeader::view(c).expect("80 bytes")).collect()
}

fn arb_headers(max: usize) -> impl Strategy<Value = Vec<BlockHeader>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 80), 0..=max)
        .prop_map(|v| v.iter().map(|b| *BlockHeader::view(b).expect("80 bytes")).collect())
}

#[test]
fn the_cpu_offers_sha2_and_best_is_available() {
    let all = Kernel::available();
    assert_eq!(all.last(), Some(&Kernel::sha2()));
    assert!(all.contains(&Kernel::best()));
    for k in &all {
        assert_eq!(Kernel::by_name(k.name()), Some(*k));
        assert!(k.lanes() >= 1 && k.lanes() <= 16);
    }
    assert_eq!(Kernel::by_name("no-such-kernel"), None);
    eprintln!("kernels on this machine: {all:?}, best {}", Kernel::best());
}

#[cfg(target_arch = "x86_64")]
#[test]
fn every_kernel_the_cpu_supports_is_offered() {
    let has = |f: &str| Kernel::by_name(f).is_some();
    if std::arch::is_x86_feature_detected!("sha") && std::arch::is_x86_feature_detected!("sse4.1") {
        assert!(has("sha-ni-x1") && has("sha-ni-x2") && has("sha-ni-x4"));
    }
    if std::arch::is_x86_feature_detected!("avx2") {
        assert!(has("avx2-x8"));
    }
    if std::arch::is_x86_feature_detected!("avx512f") {
        assert!(has("avx512-x16"));
    }
}

#[test]
fn genesis_hash_from_every_kernel() {
    let headers = mainnet();
    let genesis = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
    for k in Kernel::available() {
        let mut out = Vec::new();
        k.hash_headers(&headers[..1], &mut out);
        assert_eq!(out[0].to_string(), genesis, "{k}");
    }
}

/// Each header's hash is its successor's prev_hash: 39,999 links, plus the
/// published hash of the last header (corpus/vectors/headers/mainnet_0_39999.json).
#[test]
fn every_kernel_links_the_real_mainnet_chain() {
    let headers = mainnet();
    let last = "000000002509f3a013a1d21b89fe33306a45b1fcbb485dd4d310e4f9b2c09945";
    let check = |name: &str, hashes: &[BlockHash]| {
        assert_eq!(hashes.len(), headers.len(), "{name}");
        for (i, pair) in headers.windows(2).enumerate() {
            assert_eq!(hashes[i], pair[1].prev_hash(), "{name}: height {i}");
        }
        assert_eq!(hashes[39_999].to_string(), last, "{name}");
    };
    for k in Kernel::available() {
        let mut out = Vec::new();
        k.hash_headers(&headers, &mut out);
        check(k.name(), &out);
    }
    let mut out = Vec::new();
    pow::hash_headers(&headers, &mut out);
    check("hash_headers", &out);
    let mut out = Vec::new();
    pow::par_hash_headers(&headers, &mut out);
    check("par_hash_headers", &out);
    let one: Vec<BlockHash> = headers.iter().map(pow::block_hash).collect();
    check("block_hash", &one);
}

/// The APIs append after what `out` already holds.
#[test]
fn batches_append_to_out() {
    let headers = mainnet();
    let sentinel = BlockHash([0xab; 32]);
    for k in Kernel::available() {
        let mut out = vec![sentinel];
        k.hash_headers(&headers[..37], &mut out);
        assert_eq!(out[0], sentinel);
        assert_eq!(out[1..], headers[1..38].iter().map(|h| h.prev_hash()).collect::<Vec<_>>()[..]);
    }
    let mut out = vec![sentinel];
    pow::par_hash_headers(&headers, &mut out);
    assert_eq!(out.len(), 40_001);
    assert_eq!(out[0], sentinel);
    assert_eq!(out[40_000].to_string(), headers[39_999].block_hash().to_string());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every kernel, random headers, batch sizes 0..=67 (every tail of every
    /// lane count): identical to sha2 one at a time.
    #[test]
    fn every_kernel_equals_sha2(headers in arb_headers(67)) {
        let expected: Vec<BlockHash> = headers.iter().map(reference).collect();
        for k in Kernel::available() {
            let mut out = Vec::new();
            k.hash_headers(&headers, &mut out);
            prop_assert_eq!(&out, &expected, "kernel {}", k);
        }
        let mut out = Vec::new();
        pow::hash_headers(headers.iter(), &mut out);
        prop_assert_eq!(&out, &expected);
        let mut out = Vec::new();
        pow::par_hash_headers(&headers, &mut out);
        prop_assert_eq!(&out, &expected);
        for (h, e) in headers.iter().zip(&expected) {
            prop_assert_eq!(pow::block_hash(h), *e);
            prop_assert_eq!(BlockHash(pow::sha256d(h.bytes())), *e);
        }
    }

    /// Batches large enough to use several threads, with odd tails.
    #[test]
    fn par_hash_headers_equals_sha2(extra in 0usize..40, seed in any::<u64>()) {
        let n = 2 * pow::PAR_MIN_HEADERS_PER_THREAD + extra;
        let mut state = seed | 1;
        let headers: Vec<BlockHeader> = (0..n)
            .map(|_| {
                let mut b = [0u8; 80];
                for byte in b.iter_mut() {
                    // xorshift64: cheap distinct headers
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    *byte = state as u8;
                }
                BlockHeader::from_array(&b)
            })
            .collect();
        let mut out = Vec::new();
        pow::par_hash_headers(&headers, &mut out);
        prop_assert_eq!(out.len(), n);
        for (h, got) in headers.iter().zip(&out) {
            prop_assert_eq!(reference(h), *got);
        }
    }
}

/// sha256d of messages of every length around the block boundaries (the
/// envelope checksum path).
#[test]
fn sha256d_any_length_matches_sha2() {
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
    for len in 0..data.len() {
        let m = &data[..len];
        let expected: [u8; 32] = Sha256::digest(Sha256::digest(m)).into();
        assert_eq!(pow::sha256d(m), expected, "len {len}");
    }
}

/// The fuzz target's seeds (corpus/pow_hash/), replayed through the same
/// checks: one offset byte, then whole 80-byte headers.
#[test]
fn fuzz_seeds_replay() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/pow_hash");
    let mut seeds = 0;
    for entry in std::fs::read_dir(dir).expect("corpus/pow_hash") {
        let data = std::fs::read(entry.expect("entry").path()).expect("seed");
        let Some((&skip, rest)) = data.split_first() else { continue };
        let rest = &rest[(skip as usize % 80).min(rest.len())..];
        let headers: Vec<BlockHeader> =
            rest.chunks_exact(80).map(|c| *BlockHeader::view(c).expect("80 bytes")).collect();
        assert!(!headers.is_empty());
        let expected: Vec<BlockHash> = headers.iter().map(reference).collect();
        for k in Kernel::available() {
            let mut out = Vec::new();
            k.hash_headers(&headers, &mut out);
            assert_eq!(out, expected, "kernel {k}");
        }
        seeds += 1;
    }
    assert!(seeds >= 2);
}
