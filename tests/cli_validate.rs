//! `bitwire validate` end to end: every consecutive header file in
//! corpus/vectors/headers is accepted and ends on its known tip; invalid
//! headers end it with exit status 1 and Core's reason, height and hash.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn corpus(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/vectors/headers").join(rel)
}

fn validate(args: &[&str], file: &std::path::Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_bitwire"))
        .arg("validate")
        .args(args)
        .arg(file)
        .output()
        .expect("run bitwire");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("not one JSON object: {e}: {stdout:?} / {}", String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().expect("exit status"), json)
}

fn meta(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(corpus(&format!("{name}.json"))).unwrap())
        .unwrap()
}

/// (file, network, start height if not from genesis)
const FILES: &[(&str, &str, Option<u32>)] = &[
    ("mainnet_0_39999", "main", None),
    ("testnet3_0_9999", "testnet3", None),
    ("signet_0_2016", "signet", None),
    ("testnet4_0_30", "testnet4", None),
    ("testnet4_2010_2020", "testnet4", Some(2010)),
    ("testnet4_143136", "testnet4", Some(143136)),
    ("testnet4_145130_145160", "testnet4", Some(145130)),
    ("mainnet_900000_900002", "main", Some(900000)),
];

#[test]
fn accepts_every_consecutive_file_and_ends_on_its_tip() {
    for &(name, network, start) in FILES {
        let m = meta(name);
        let mut args = vec!["--network", network];
        let h;
        if let Some(s) = start {
            h = s.to_string();
            args.extend(["--start-height", &h]);
        }
        let (code, out) = validate(&args, &corpus(&format!("{name}.bin")));
        assert_eq!(code, 0, "{name}: {out}");
        assert_eq!(out["network"], network);
        assert_eq!(out["headers"], m["count"], "{name}");
        assert_eq!(out["tip_height"], m["last_height"], "{name}");
        assert_eq!(out["tip_hash"], m["sha256d_last_header"], "{name}");
        assert_eq!(out["chainwork"].as_str().unwrap().len(), 64);
        assert!(out["elapsed_s"].as_f64().unwrap() >= 0.0);
        assert!(out["headers_per_s"].as_f64().unwrap() >= 0.0);
    }
}

#[test]
fn mainnet_chainwork_matches_core_at_height_38303() {
    // Core's nChainWork of block 38303 (a boundary row in the corpus); validate
    // the first 38304 headers and compare.
    let rows: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus("mainnet_retarget_boundaries.json")).unwrap(),
    )
    .unwrap();
    let row = rows["rows"].as_array().unwrap().iter().find(|r| r["height"] == 38303).unwrap();
    let bytes = std::fs::read(corpus("mainnet_0_39999.bin")).unwrap();
    let dir = tempdir("work");
    let file = dir.join("first.bin");
    std::fs::write(&file, &bytes[..38304 * 80]).unwrap();
    let (code, out) = validate(&["--network", "main"], &file);
    assert_eq!(code, 0);
    assert_eq!(out["tip_height"], 38303);
    assert_eq!(out["tip_hash"], row["hash"]);
    assert_eq!(out["chainwork"], row["chainwork"]);
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bitwire-cli-validate-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_changed_nonce_is_high_hash_at_its_height() {
    let mut bytes = std::fs::read(corpus("mainnet_0_39999.bin")).unwrap();
    bytes.truncate(200 * 80);
    bytes[150 * 80 + 79] ^= 0x01; // nonce of header 150
    let hash = bitwire::wire::BlockHeader::view(&bytes[150 * 80..151 * 80]).unwrap().block_hash();
    let dir = tempdir("nonce");
    let file = dir.join("bad.bin");
    std::fs::write(&file, &bytes).unwrap();
    let (code, out) = validate(&["--network", "main"], &file);
    assert_eq!(code, 1);
    assert_eq!(out["error"], "high-hash");
    assert_eq!(out["height"], 150);
    assert_eq!(out["hash"], hash.to_string());
}

#[test]
fn a_clock_before_the_chain_is_time_too_new() {
    // Block 1 is 463,160 s after genesis: with `now` at genesis time it is
    // more than 2 hours in the future.
    let (code, out) =
        validate(&["--network", "main", "--now", "1231006505"], &corpus("mainnet_0_39999.bin"));
    assert_eq!(code, 1);
    assert_eq!(out["error"], "time-too-new");
    assert_eq!(out["height"], 1);
    assert_eq!(out["hash"], "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048");
}

#[test]
fn a_missing_header_is_prev_blk_not_found() {
    let mut bytes = std::fs::read(corpus("signet_0_2016.bin")).unwrap();
    bytes.drain(500 * 80..501 * 80); // drop header 500
    let dir = tempdir("gap");
    let file = dir.join("gap.bin");
    std::fs::write(&file, &bytes).unwrap();
    let (code, out) = validate(&["--network", "signet"], &file);
    assert_eq!(code, 1);
    assert_eq!(out["error"], "prev-blk-not-found");
    assert_eq!(out["height"], 500);
}

#[test]
fn the_wrong_network_fails_on_its_first_header() {
    // testnet3's genesis is not signet's: it does not connect (its proof of
    // work meets signet's easier limit, so the parent check is what fails).
    let (code, out) = validate(&["--network", "signet"], &corpus("testnet3_0_9999.bin"));
    assert_eq!(code, 1);
    assert_eq!(out["error"], "prev-blk-not-found");
    assert_eq!(out["height"], 0);
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_bitwire"))
        .args(["validate", "--network", "nope", "x.bin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = tempdir("odd");
    let file = dir.join("odd.bin");
    std::fs::write(&file, [0u8; 81]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bitwire"))
        .args(["validate", "--network", "main"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("81 bytes"));
}

#[test]
fn the_core_testnet3_fork_validates_on_top_of_genesis() {
    // The file has no genesis: its first header builds on the testnet3 genesis
    // the tree starts with, so it validates as heights 1 and 2 of a fork.
    let m = meta("testnet3_core_fork_1_2");
    let (code, out) = validate(&["--network", "testnet3"], &corpus("testnet3_core_fork_1_2.bin"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["headers"], 2);
    assert_eq!(out["tip_height"], 2);
    assert_eq!(out["tip_hash"], m["hashes"][1]);
}

#[test]
fn a_file_that_is_not_one_chain_is_validated_as_a_tree() {
    // A file of one chain is checked without storing it (`ChainWindow`);
    // one that forks or repeats a header goes to the header tree, which
    // takes it as Core would. The answers are those of the tree.
    let bytes = std::fs::read(corpus("mainnet_0_39999.bin")).unwrap();
    let dir = tempdir("fork");
    let hash_at = |h: usize| {
        bitwire::wire::BlockHeader::view(&bytes[h * 80..(h + 1) * 80]).unwrap().block_hash()
    };

    // Headers 0..=3000, then 2000..=3100 again: the repeats are known and
    // skipped, the rest extends the tip.
    let mut twice = bytes[..3001 * 80].to_vec();
    twice.extend_from_slice(&bytes[2000 * 80..3101 * 80]);
    let file = dir.join("twice.bin");
    std::fs::write(&file, &twice).unwrap();
    let (code, out) = validate(&["--network", "main"], &file);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["headers"], 3001 + 1101);
    assert_eq!(out["tip_height"], 3100);
    assert_eq!(out["tip_hash"], hash_at(3100).to_string());

    // After headers the tree knew, an invalid one is still found, and
    // reported at its height in the chain, not its place in the file.
    let mut bad = twice.clone();
    bad.extend_from_slice(&bytes[3101 * 80..3200 * 80]);
    let at = 3001 + 1101 + 50; // header 3151 of the chain
    bad[at * 80 + 79] ^= 1;
    std::fs::write(&file, &bad).unwrap();
    let (code, out) = validate(&["--network", "main"], &file);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["error"], "high-hash");
    assert_eq!(out["height"], 3151);
}
