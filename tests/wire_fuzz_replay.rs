//! Replays every seed in corpus/wire_*/ through the same check functions the
//! fuzz targets call, so plain `cargo test` exercises them (the
//! differential target's seeds are replayed in tests/wire_differential.rs,
//! which can reach the `bitcoin` dev-dependency).

use bitwire::wire::fuzzing;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = format!("{}/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if let Err(e) = std::panic::catch_unwind(|| check(&data)) {
            panic!("{}: {:?}", path.display(), e.downcast_ref::<String>());
        }
        n += 1;
    }
    assert!(n >= 10, "{target}: only {n} seeds");
}

#[test]
fn wire_envelope_seeds() {
    replay("wire_envelope", fuzzing::check_envelope);
}

#[test]
fn wire_payloads_seeds() {
    replay("wire_payloads", fuzzing::check_payloads);
}

#[test]
fn wire_deframer_seeds() {
    replay("wire_deframer", fuzzing::check_deframer);
}

/// The seeds are real messages: most of them must decode, not just pass.
#[test]
fn payload_seeds_mostly_decode() {
    let dir = format!("{}/corpus/wire_payloads", env!("CARGO_MANIFEST_DIR"));
    let (mut ok, mut all) = (0, 0);
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let cmd = fuzzing::PAYLOAD_COMMANDS[data[0] as usize % fuzzing::PAYLOAD_COMMANDS.len()];
        ok += usize::from(bitwire::wire::msg::Message::decode(cmd, &data[1..]).is_ok());
        all += 1;
    }
    assert!(ok * 10 >= all * 9, "{ok} of {all} decode");
}
