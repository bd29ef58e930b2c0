//! Arbitrary bytes as a batch of headers (every whole 80 bytes, after a first
//! byte that offsets the batch so tails of every length occur): every sha256d
//! kernel of this CPU, `hash_headers`, `par_hash_headers` and `block_hash` must
//! equal rust-bitcoin's `Header::block_hash`, an independent implementation.
#![no_main]

use bitcoin::consensus::encode::deserialize;
use bitcoin::hashes::Hash as _;
use bitwire::pow::{self, Kernel};
use bitwire::wire::{BlockHash, BlockHeader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&skip, rest)) = data.split_first() else { return };
    let rest = &rest[(skip as usize % 80).min(rest.len())..];
    let headers: Vec<BlockHeader> =
        rest.chunks_exact(80).map(|c| *BlockHeader::view(c).expect("80 bytes")).collect();
    let expected: Vec<BlockHash> = headers
        .iter()
        .map(|h| {
            let theirs: bitcoin::block::Header = deserialize(h.bytes()).expect("any 80 bytes");
            BlockHash(theirs.block_hash().to_byte_array())
        })
        .collect();

    for kernel in Kernel::available() {
        let mut out = Vec::new();
        kernel.hash_headers(&headers, &mut out);
        assert_eq!(out, expected, "kernel {kernel}");
    }
    let mut out = Vec::new();
    pow::hash_headers(&headers, &mut out);
    assert_eq!(out, expected);
    let mut out = Vec::new();
    pow::par_hash_headers(&headers, &mut out);
    assert_eq!(out, expected);
    for (h, e) in headers.iter().zip(&expected) {
        assert_eq!(pow::block_hash(h), *e);
    }
    // The envelope checksum path: sha256d of the raw bytes, any length.
    assert_eq!(pow::sha256d(data), bitcoin::hashes::sha256d::Hash::hash(data).to_byte_array());
});
