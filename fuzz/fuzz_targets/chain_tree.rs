//! Arbitrary header sequences into a regtest `HeaderTree`, asserting its
//! invariants after every batch (see `bitwire::chain::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bitwire::chain::fuzzing::tree_ops(data));
