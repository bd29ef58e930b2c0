#![no_main]
//! Fuzz target: bitwire against rust-bitcoin; the check and the list of
//! intended differences are in tests/wire_support/differential.rs.
#[path = "../../tests/wire_support/differential.rs"]
mod differential;
libfuzzer_sys::fuzz_target!(|data: &[u8]| differential::check(data));
