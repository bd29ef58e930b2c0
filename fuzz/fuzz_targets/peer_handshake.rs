//! One peer's handshake and connection rules driven by an arbitrary program
//! of messages, bytes and clock ticks (Core's p2p_handshake); see
//! `bitwire::peer::fuzzing`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bitwire::peer::fuzzing::handshake(data);
});
