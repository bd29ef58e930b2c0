//! `bitwire decode` end to end: the real binary on the bundled capture, on
//! every known-answer envelope, and on each kind of broken stream.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

const VERACK: &str = "f9beb4d976657261636b000000000000000000005df6e0e2";

fn corpus(path: &str) -> String {
    format!("{}/corpus/vectors/p2p/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary; returns the parsed JSON lines and the exit code.
fn bitwire(args: &[&str], stdin: Option<&[u8]>) -> (Vec<Value>, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bitwire"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (lines, out.status.code().unwrap())
}

#[test]
fn bundled_capture_decodes_to_24_messages() {
    let (lines, code) = bitwire(&["decode", &corpus("bitcore_p2p_connection.log")], None);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 24);
    assert!(lines.iter().all(|l| l.get("error").is_none()));
    assert_eq!(lines[0]["command"], "version");
    assert_eq!(lines[0]["payload"]["user_agent"], "/Satoshi:0.9.1/");
    assert_eq!(lines[4]["payload"]["count"], 1000);
    // Offsets and lengths tile the file exactly.
    let mut at = 0;
    for l in &lines {
        assert_eq!(l["offset"], at);
        at += 24 + l["length"].as_u64().unwrap();
    }
    assert_eq!(at, std::fs::metadata(corpus("bitcore_p2p_connection.log")).unwrap().len());
    // Standard input gives the same lines.
    let bytes = std::fs::read(corpus("bitcore_p2p_connection.log")).unwrap();
    assert_eq!(bitwire(&["decode", "-"], Some(&bytes)), (lines, 0));
}

#[test]
fn known_answer_envelopes_print_their_recorded_fields() {
    let ka: Value =
        serde_json::from_slice(&std::fs::read(corpus("p2p_known_answers.json")).unwrap()).unwrap();
    let mut checked = 0;
    for v in ka["vectors"].as_array().unwrap() {
        if v["kind"] != "envelope" || v["envelope"]["checksum_ok"] != true {
            continue;
        }
        let (lines, code) = bitwire(&["decode", "--hex", v["hex"].as_str().unwrap()], None);
        let env = &v["envelope"];
        let trailing = env["trailing_bytes"].as_u64().unwrap();
        assert_eq!(code, i32::from(trailing > 0), "{}", v["name"]);
        assert_eq!(lines[0]["command"], env["command"]);
        assert_eq!(lines[0]["length"], env["length"]);
        assert_eq!(lines[0]["checksum"], env["checksum"]);
        if lines[0]["payload"].get("hex").is_none() {
            let mut payload = lines[0]["payload"].clone();
            // The CLI adds each header's raw bytes; the vectors list them too.
            if let Some(hs) = payload.get_mut("headers") {
                for h in hs.as_array_mut().unwrap() {
                    h.as_object_mut().unwrap().remove("header");
                }
            }
            let mut decoded = v["decoded"].clone();
            if let Some(hs) = decoded.get_mut("headers") {
                for h in hs.as_array_mut().unwrap() {
                    h.as_object_mut().unwrap().remove("header");
                }
            }
            assert_eq!(payload, decoded, "{}", v["name"]);
        }
        if trailing > 0 {
            // Two stray bytes after the message: a partial envelope at the end.
            assert_eq!(lines[1]["error"], "truncated");
        }
        checked += 1;
    }
    assert!(checked >= 18, "{checked}");
}

#[test]
fn chapter_10_verack_from_hex() {
    let (lines, code) = bitwire(&["decode", "--hex", VERACK], None);
    assert_eq!(code, 0);
    assert_eq!(
        lines[0],
        serde_json::json!({"command":"verack","length":0,"checksum":"5df6e0e2","payload":{},"offset":0})
    );
}

fn with_len(len: u32) -> String {
    format!("{}{}{}", &VERACK[..32], hex::encode(len.to_le_bytes()), &VERACK[40..])
}

#[test]
fn every_stream_error_is_named_and_fails_the_exit_status() {
    let cases: Vec<(String, &str)> = vec![
        (format!("{}{VERACK}", hex::encode("garbage!")), "bad-magic"),
        (format!("{}{VERACK}", with_len(4_000_001)), "oversized-payload"),
        (format!("{}{VERACK}", with_len(u32::MAX)), "oversized-payload"),
        (format!("{}00000000{VERACK}", &VERACK[..40]), "bad-checksum"),
        (format!("f9beb4d9706900670000000000000000000000005df6e0e2{VERACK}"), "bad-command"),
        (format!("f9beb4d970696e6700780000000000000000000000000000{VERACK}"), "bad-command"),
        (format!("{VERACK}{}", &VERACK[..30]), "truncated"),
        (format!("{VERACK}{}", with_len(10)), "truncated"),
    ];
    for (input, name) in cases {
        let (lines, code) = bitwire(&["decode", "--hex", &input], None);
        assert_eq!(code, 1, "{name}: {lines:?}");
        let errors: Vec<_> = lines.iter().filter_map(|l| l.get("error")).collect();
        assert_eq!(errors, [name], "{input}");
        // Whatever the error, the good verack is still decoded.
        assert!(lines.iter().any(|l| l["command"] == "verack"), "{name}: {lines:?}");
    }
    // Recovery skips exactly the garbage.
    let (lines, _) =
        bitwire(&["decode", "--hex", &format!("{}{VERACK}", hex::encode("junk"))], None);
    assert_eq!(lines[0]["skipped"], 4);
    assert_eq!(lines[1]["offset"], 4);
}

#[test]
fn payload_errors_are_named() {
    // A headers message declaring 2001 headers.
    let payload = [0xfd, 0xd1, 0x07];
    let mut msg = Vec::new();
    let env = bitwire::wire::Envelope::new(
        bitwire::Magic::MAIN,
        bitwire::wire::Command::HEADERS,
        &payload,
    );
    msg.extend_from_slice(zerocopy::IntoBytes::as_bytes(&env));
    msg.extend_from_slice(&payload);
    let (lines, code) = bitwire(&["decode", "--hex", &hex::encode(&msg)], None);
    assert_eq!(code, 1);
    assert_eq!(lines[0]["command"], "headers");
    assert_eq!(lines[0]["error"], "too-many");
}

#[test]
fn networks_and_help() {
    let (lines, code) = bitwire(&["decode", "--network", "testnet4", "--hex", VERACK], None);
    assert_eq!(code, 1);
    assert_eq!(lines[0]["error"], "bad-magic");
    assert_eq!(lines[0]["expected"], "1c163f28");
    let regtest = format!("fabfb5da{}", &VERACK[8..]);
    assert_eq!(bitwire(&["decode", "-n", "regtest", "--hex", &regtest], None).1, 0);
    let out =
        Command::new(env!("CARGO_BIN_EXE_bitwire")).args(["decode", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("bitwire decode [--network NAME] [FILE | -]"));
    assert!(help.contains("--hex HEX"));
    let out = Command::new(env!("CARGO_BIN_EXE_bitwire")).arg("--help").output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("decode"));
    let out = Command::new(env!("CARGO_BIN_EXE_bitwire"))
        .args(["decode", "--network", "litecoin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
