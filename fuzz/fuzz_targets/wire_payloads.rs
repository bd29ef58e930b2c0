#![no_main]
//! Fuzz target: see `bitwire::wire::fuzzing::check_payloads`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| bitwire::wire::fuzzing::check_payloads(data));
