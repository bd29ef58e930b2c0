//! Header validation over arbitrary headers on a valid parent context (real
//! mainnet headers 0..=2100): the header tree and the presync window must
//! agree; see `bitwire::chain::fuzzing::check_rules`.
#![no_main]

use std::sync::OnceLock;

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::wire::BlockHeader;
use bitwire::Network;

fn context() -> &'static HeaderTree {
    static TREE: OnceLock<HeaderTree> = OnceLock::new();
    TREE.get_or_init(|| {
        let bytes = include_bytes!("../../corpus/vectors/headers/mainnet_0_39999.bin");
        let headers: Vec<BlockHeader> = bytes[80..2101 * 80]
            .chunks_exact(80)
            .map(|c| BlockHeader::from_array(c.try_into().expect("80 bytes")))
            .collect();
        let mut tree = HeaderTree::new(Params::for_network(Network::Main));
        tree.accept(headers.as_slice(), u64::MAX / 4).expect("real headers");
        tree
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| bitwire::chain::fuzzing::check_rules(data, context()));
