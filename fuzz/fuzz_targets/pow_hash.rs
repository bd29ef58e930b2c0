//! Every sha256d kernel against rust-bitcoin's block hash; the check is in
//! tests/fuzz_support/pow_hash.rs (shared with the corpus replay test).
#![no_main]

#[path = "../../tests/fuzz_support/pow_hash.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
