//! The sync engine driven by an arbitrary program of peer events, bytes and
//! clock ticks; see `bitwire::sync::fuzzing` for the operations and the
//! invariants checked after each step.
#![no_main]

use std::sync::OnceLock;

use bitwire::wire::BlockHeader;
use libfuzzer_sys::fuzz_target;

/// The first 2,100 real mainnet headers (from the bundled vectors).
fn chain() -> &'static [BlockHeader] {
    static CHAIN: OnceLock<Vec<BlockHeader>> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let bytes = include_bytes!("../../corpus/vectors/headers/mainnet_0_39999.bin");
        bytes[..2100 * 80]
            .chunks_exact(80)
            .map(|c| BlockHeader::from_array(c.try_into().expect("80 bytes")))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| bitwire::sync::fuzzing::run(data, chain()));
