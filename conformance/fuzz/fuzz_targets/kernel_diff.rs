//! Differential fuzzing: the same header sequence, built on mined regtest
//! chains, through libbitcoinkernel and bitwire; they must agree on every
//! verdict, reject reason and best tip. See `bitwire_conformance::fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bitwire_conformance::fuzz::differential(data);
});
