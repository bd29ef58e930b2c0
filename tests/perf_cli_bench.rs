//! `bitwire bench` end to end: it generates a chain, hashes, validates and
//! syncs it over loopback, and prints the table with every row and ratio;
//! `--write` gives a file that `bitwire validate` accepts. Only the presence
//! and consistency of the figures is checked here, never their size.

use std::process::Command;

use serde_json::Value;

fn bitwire(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bitwire")).args(args).output().expect("run bitwire");
    (
        out.status.code().expect("exit status"),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

#[test]
fn bench_prints_every_row_and_ratio() {
    let (code, out, err) =
        bitwire(&["bench", "--headers", "9000", "--runs", "1", "--peers", "1,2"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("bitwire bench: 9001 headers: a generated regtest chain"), "{out}");
    for row in [
        "| sha2 crate, sha256d one header at a time, 1 core | ",
        "| bitwire hash_headers (",
        "| bitwire par_hash_headers, ",
        "| envelope checksum of the headers messages (2000 headers each), 1 core | ",
        "| bitwire validate (every rule, nothing stored), 1 core | ",
        "| bitwire validate into the header tree (every rule + tree), 1 core | ",
        "| bitwire sync over loopback from 1 peer(s) | ",
        "| bitwire sync over loopback from 2 peer(s) | ",
        "| validate / batched hashing, 1 core | ",
        "| into the tree / batched hashing, 1 core | ",
        "| sync over loopback from 2 peer(s) / into the tree, 1 core | ",
        "| sync over loopback from 2 peer(s) / into the tree, ",
        "| sync over loopback from 2 peer(s) / validate, 1 core | ",
        "| loopback sync's hashing limit (",
        "| sync over loopback from 2 peer(s) / its hashing limit | ",
        "| the same limit with the tree's cost / validate, 1 core | ",
        "| sync over loopback from 2 peer(s) / its limit with the tree | ",
    ] {
        let line =
            out.lines().find(|l| l.starts_with(row)).unwrap_or_else(|| panic!("{row}: {out}"));
        // Every figure is a positive number.
        let figure = line.split('|').nth(2).unwrap().trim().trim_end_matches(['x', '%']);
        assert!(figure.parse::<f64>().unwrap() > 0.0, "{line}");
    }
}

#[test]
fn bench_runs_on_a_file_and_rejects_bad_arguments() {
    let mainnet =
        concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let (code, out, err) =
        bitwire(&["bench", "--file", mainnet, "--network", "main", "--runs", "1", "--no-sync"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("tip 000000002509f3a013a1d21b89fe33306a45b1fcbb485dd4d310e4f9b2c09945"));
    assert!(!out.contains("sync over loopback"));
    // A file that does not start at the network's genesis.
    let (code, _, err) = bitwire(&["bench", "--file", mainnet, "--network", "regtest"]);
    assert_eq!(code, 2);
    assert!(err.contains("expected the regtest genesis first"), "{err}");
    let (code, _, err) = bitwire(&["bench", "--peers", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--peers: expected counts >= 1"), "{err}");
}

#[test]
fn written_chain_validates() {
    let dir = std::env::temp_dir().join(format!("bitwire-perf-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("regtest.bin");
    let path = file.to_str().unwrap();
    let (code, _, err) = bitwire(&["bench", "--headers", "5000", "--write", path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 5001 * 80);
    let (code, out, err) = bitwire(&["validate", "--network", "regtest", path]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["tip_height"], 5000);
}
