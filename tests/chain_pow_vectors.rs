//! Every known answer in corpus/vectors/pow/*.json (and the 827 real mainnet
//! retarget-boundary headers) against bitwire's targets, work and retarget rules.

use std::collections::BTreeMap;

use bitwire::chain::rules::{self, calculate_next_work_required, ChainContext};
use bitwire::chain::Params;
use bitwire::pow::{check_proof_of_work, work_from_bits, CompactTarget, PowError, U256};
use bitwire::wire::{BlockHash, BlockHeader};
use bitwire::Network;
use serde_json::Value;

fn load(rel: &str) -> Value {
    let path = format!("{}/corpus/vectors/{rel}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("json")
}

fn bits(v: &Value) -> CompactTarget {
    CompactTarget(u32::from_str_radix(v.as_str().expect("hex string"), 16).expect("hex"))
}

fn header(v: &Value) -> BlockHeader {
    let b = hex::decode(v.as_str().unwrap()).unwrap();
    *BlockHeader::view(&b).expect("80 bytes")
}

fn net(name: &str) -> &'static Params {
    Params::for_network(match name {
        "mainnet" => Network::Main,
        other => other.parse().unwrap(),
    })
}

#[test]
fn compact_vectors_set_and_get_compact() {
    let d = load("pow/compact_vectors.json");
    let vectors = d["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 21);
    for v in vectors {
        match (v.get("nbits"), v.get("target_hex")) {
            (Some(n), Some(t)) => {
                let e = bits(n).expand();
                assert_eq!(e.target.to_hex(), t.as_str().unwrap(), "{v}");
                assert_eq!(e.negative, v["negative"].as_bool().unwrap(), "{v}");
                assert_eq!(e.overflow, v["overflow"].as_bool().unwrap(), "{v}");
                let back = CompactTarget::from_target(&e.target, e.negative);
                assert_eq!(back, bits(&v["get_compact"]), "{v}");
            }
            (Some(n), None) => {
                assert!(v["overflow"].as_bool().unwrap());
                assert!(bits(n).expand().overflow, "{v}");
            }
            (None, Some(t)) => {
                let target = U256::from_hex(t.as_str().unwrap()).unwrap();
                assert_eq!(CompactTarget::from_target(&target, false), bits(&v["get_compact"]));
            }
            (None, None) => panic!("vector without nbits or target: {v}"),
        }
    }
}

#[test]
fn core_pow_tests_calculate_next_work_required() {
    let d = load("pow/bitcoin_core_pow_tests.json");
    let cases = d["calculate_next_work_required"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let got = calculate_next_work_required(
            net(c["network"].as_str().unwrap()),
            c["last_block_time"].as_i64().unwrap(),
            c["first_block_time"].as_i64().unwrap(),
            bits(&c["last_nbits"]),
        );
        assert_eq!(got, bits(&c["expected_nbits"]), "{}", c["name"]);
    }
}

#[test]
fn core_pow_tests_check_proof_of_work_failures() {
    let d = load("pow/bitcoin_core_pow_tests.json");
    let limit = Params::for_network(Network::Main).pow_limit;
    let mut one = [0u8; 32];
    one[0] = 1; // little-endian 1
    let hash_one = BlockHash(one);
    let cases = d["check_proof_of_work_must_fail"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let (nbits, hash, expect) = match name {
            "negative_target" => {
                let n = CompactTarget::from_target(&limit, true);
                assert_eq!(n, CompactTarget(0x1d80ffff));
                (n, hash_one, PowError::Negative(n))
            }
            "overflow_target" => {
                let n = CompactTarget(!0x0080_0000);
                (n, hash_one, PowError::Overflow(n))
            }
            "too_easy_target" => {
                // The vector's 0x1d01fffe doubles the compact-rounded limit;
                // doubling the exact limit gives 0x1d01ffff. Both must fail.
                let exact = CompactTarget::from_target(&limit.wrapping_mul_u32(2), false);
                assert_eq!(exact, CompactTarget(0x1d01ffff));
                let e = check_proof_of_work(&hash_one, exact, &limit);
                assert_eq!(e, Err(PowError::AboveLimit { bits: exact, limit }));
                let n = CompactTarget(0x1d01fffe);
                assert!(c["nbits"].as_str().unwrap().ends_with("0x1d01fffe"));
                (n, hash_one, PowError::AboveLimit { bits: n, limit })
            }
            "bigger_hash_than_target" => {
                let n = CompactTarget::from_target(&limit, false);
                let h = limit.wrapping_mul_u32(2).to_be_bytes();
                let mut le = h;
                le.reverse();
                (n, BlockHash(le), PowError::HashAboveTarget { target: n.expand().target })
            }
            "zero_target" => {
                let n = CompactTarget::from_target(&U256::ZERO, false);
                assert_eq!(n, CompactTarget(0));
                (n, BlockHash::ZERO, PowError::Zero(n))
            }
            other => panic!("unknown case {other}"),
        };
        assert_eq!(check_proof_of_work(&hash, nbits, &limit), Err(expect), "{name}");
    }
}

#[test]
fn all_413_mainnet_retargets() {
    let d = load("pow/mainnet_retarget_vectors.json");
    let main = Params::for_network(Network::Main);
    let vectors = d["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 413);
    for v in vectors {
        let got = calculate_next_work_required(
            main,
            v["last_block_time"].as_i64().unwrap(),
            v["first_block_time"].as_i64().unwrap(),
            bits(&v["last_block_nbits"]),
        );
        assert_eq!(got, bits(&v["new_nbits"]), "height {}", v["height"]);
        assert_eq!(got.expand().target.to_hex(), v["new_target"].as_str().unwrap());
    }
}

#[test]
fn testnet_and_signet_retargets() {
    let d = load("pow/testnet_signet_retarget_vectors.json");
    let vectors = d["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 10);
    for v in vectors {
        let p = net(v["network"].as_str().unwrap());
        // BIP94 (testnet4): the base is the period's first block.
        let base = if p.enforce_bip94 { &v["first_block_nbits"] } else { &v["last_block_nbits"] };
        let (last, first) = match v.get("timespan") {
            Some(t) => (t.as_i64().unwrap(), 0),
            None => {
                (v["last_block_time"].as_i64().unwrap(), v["first_block_time"].as_i64().unwrap())
            }
        };
        let got = calculate_next_work_required(p, last, first, bits(base));
        let want = v.get("new_nbits_real").or(v.get("expected_nbits")).unwrap();
        assert_eq!(got, bits(want), "{v}");
    }
}

#[test]
fn programmingbitcoin_headers_pow() {
    let d = load("pow/programmingbitcoin_ch09_headers.json");
    let limit = Params::for_network(Network::Main).pow_limit;
    for v in d["headers"].as_array().unwrap() {
        let h = header(&v["header"]);
        let hash = h.block_hash();
        assert_eq!(hash.to_string(), v["hash"].as_str().unwrap());
        assert_eq!(h.bits(), bits(&v["nbits"]));
        let ok = rules::check_header(Params::for_network(Network::Main), &hash, &h).is_ok();
        assert_eq!(ok, v["pow_valid"].as_bool().unwrap(), "{}", v["hash"]);
        assert_eq!(check_proof_of_work(&hash, h.bits(), &limit).is_ok(), ok);
    }
}

/// The real boundary headers as a sparse chain context: heights map to
/// (time, bits); a parent or ancestor exists only if its row is present.
struct Sparse(BTreeMap<u32, (u32, CompactTarget)>);

impl ChainContext for Sparse {
    type Block = u32;
    fn height(&self, b: u32) -> u32 {
        b
    }
    fn time(&self, b: u32) -> u32 {
        self.0[&b].0
    }
    fn bits(&self, b: u32) -> CompactTarget {
        self.0[&b].1
    }
    fn parent(&self, b: u32) -> Option<u32> {
        b.checked_sub(1).filter(|p| self.0.contains_key(p))
    }
    fn ancestor(&self, _b: u32, height: u32) -> Option<u32> {
        self.0.contains_key(&height).then_some(height)
    }
}

#[test]
fn real_boundary_headers_pow_work_and_next_bits() {
    let d = load("headers/mainnet_retarget_boundaries.json");
    let main = Params::for_network(Network::Main);
    let rows = d["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 827);
    let mut ctx = Sparse(BTreeMap::new());
    let mut by_height = BTreeMap::new();
    for r in rows {
        let h = header(&r["header"]);
        let height = r["height"].as_u64().unwrap() as u32;
        let hash = h.block_hash();
        assert_eq!(hash.to_string(), r["hash"].as_str().unwrap());
        rules::check_header(main, &hash, &h).unwrap();
        ctx.0.insert(height, (h.time(), h.bits()));
        by_height.insert(height, (h, U256::from_hex(r["chainwork"].as_str().unwrap()).unwrap()));
    }
    assert_eq!(by_height[&0].1, work_from_bits(CompactTarget(0x1d00ffff)));
    let mut retargets = 0;
    for (&height, (h, chainwork)) in &by_height {
        if height == 0 || height % 2016 != 0 {
            continue;
        }
        // Core's chainwork grows by GetBlockProof of each header.
        let (_, prev_work) = by_height[&(height - 1)];
        assert_eq!(*chainwork, prev_work.wrapping_add(&work_from_bits(h.bits())), "{height}");
        // GetNextWorkRequired over the real window gives the real nBits.
        let want = rules::next_work_required(main, &ctx, height - 1, h.time());
        assert_eq!(want, Some(h.bits()), "height {height}");
        retargets += 1;
    }
    assert_eq!(retargets, 413);
}
