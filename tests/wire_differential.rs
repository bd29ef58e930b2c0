//! bitwire against rust-bitcoin 0.32 on every vector and on generated
//! messages. The intended differences are listed in
//! tests/wire_support/differential.rs.

#[path = "wire_support/differential.rs"]
mod differential;

use bitcoin::consensus::encode::deserialize_partial;
use bitcoin::p2p::message::RawNetworkMessage;
use bitwire::wire::msg::{self, Encode, Message};
use bitwire::wire::{
    parse_frame, write_message, AddrEntry, AddrV2Entry, BlockHash, BlockHeader, Command, InvEntry,
    InvType, NetAddr, ServiceFlags, Status,
};
use bitwire::Magic;
use proptest::prelude::*;
use serde_json::Value;

fn corpus(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/corpus/vectors/p2p/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Every whole envelope in the vectors: both accept it, with the same
/// command, length and checksum, and the same fields.
fn check_envelope(bytes: &[u8]) -> usize {
    let Ok(Status::Complete((frame, used))) = parse_frame(Magic::MAIN, bytes) else { return 0 };
    if let Ok(Message::Unknown { .. }) = frame.decode() {
        // Not decoded by bitwire (reject, block, tx, ...): rust-bitcoin's
        // verdict on the payload is its own (it rejects reject code 0).
        return 1;
    }
    let (theirs, their_used) = deserialize_partial::<RawNetworkMessage>(bytes).unwrap();
    assert_eq!(used, their_used);
    assert_eq!(frame.command.as_str(), theirs.command().as_ref());
    differential::check_payload(frame.command, frame.payload);
    1
}

#[test]
fn vectors_agree_with_rust_bitcoin() {
    let mut n = 0;
    let mut expected = 21 + 24; // bitcore messages (all but the cut one) + the capture
    let ka: Value = serde_json::from_slice(&corpus("p2p_known_answers.json")).unwrap();
    for v in ka["vectors"].as_array().unwrap() {
        let whole = v["kind"] == "envelope" && v["envelope"]["checksum_ok"] == true;
        let payload = v["kind"] == "payload" && v["command"].is_string();
        expected += usize::from(whole || payload);
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        match (v["kind"].as_str().unwrap(), v["command"].as_str()) {
            ("envelope", _) => n += check_envelope(&bytes),
            ("payload", Some(c)) => {
                differential::check_payload(Command::new(c).unwrap(), &bytes);
                n += 1;
            }
            _ => {}
        }
    }
    let bitcore: Value = serde_json::from_slice(&corpus("bitcore_p2p_messages.json")).unwrap();
    for v in bitcore.as_object().unwrap().values() {
        for h in v.as_object().unwrap().values() {
            n += check_envelope(&hex::decode(h.as_str().unwrap()).unwrap());
        }
    }
    let log = corpus("bitcore_p2p_connection.log");
    let mut at = 0;
    while at < log.len() {
        let Ok(Status::Complete((_, used))) = parse_frame(Magic::MAIN, &log[at..]) else {
            panic!()
        };
        n += check_envelope(&log[at..at + used]);
        at += used;
    }
    assert_eq!(n, expected);
}

/// The differential fuzz target's seeds, replayed under plain `cargo test`.
#[test]
fn differential_corpus_replays() {
    let dir = format!("{}/corpus/wire_differential", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        differential::check(&std::fs::read(entry.unwrap().path()).unwrap());
        n += 1;
    }
    assert!(n > 0, "no seeds");
}

#[test]
fn envelope_rules_that_differ_are_core_s() {
    // rust-bitcoin accepts a control byte in the command; Core and bitwire do not.
    let mut bytes = hex::decode("f9beb4d976657261636b000000000000000000005df6e0e2").unwrap();
    bytes[10] = 0x01;
    assert!(deserialize_partial::<RawNetworkMessage>(&bytes).is_ok());
    assert!(parse_frame(Magic::MAIN, &bytes).is_err());
}

fn arb_hash() -> impl Strategy<Value = BlockHash> {
    any::<[u8; 32]>().prop_map(BlockHash)
}

fn arb_netaddr() -> impl Strategy<Value = NetAddr> {
    (any::<u64>(), any::<[u8; 16]>(), any::<u16>())
        .prop_map(|(s, ip, port)| NetAddr::new(ServiceFlags(s), ip, port))
}

/// BIP155 entries rust-bitcoin also accepts: IPv4, Tor v3, I2P, unknown ids.
fn arb_addrv2() -> impl Strategy<Value = (u32, u64, u8, Vec<u8>, u16)> {
    (
        any::<u32>(),
        any::<u64>(),
        prop_oneof![
            any::<[u8; 4]>().prop_map(|a| (1u8, a.to_vec())),
            any::<[u8; 32]>().prop_map(|a| (4u8, a.to_vec())),
            any::<[u8; 32]>().prop_map(|a| (5u8, a.to_vec())),
            (7u8..=255, prop::collection::vec(any::<u8>(), 0..40)),
        ],
        any::<u16>(),
    )
        .prop_map(|(t, s, (n, a), p)| (t, s, n, a, p))
}

fn arb_header() -> impl Strategy<Value = BlockHeader> {
    any::<[u8; 80]>().prop_map(|b| BlockHeader::from_array(&b))
}

/// A generated message, encoded by bitwire's owned encoders.
#[derive(Debug, Clone)]
enum Gen {
    Version(i32, u64, i64, NetAddr, NetAddr, u64, String, i32, bool),
    Ping(u64),
    Pong(u64),
    FeeFilter(i64),
    SendCmpct(bool, u64),
    GetHeaders(u32, Vec<BlockHash>, BlockHash),
    Headers(Vec<BlockHeader>),
    Inv(Vec<(u32, BlockHash)>),
    Addr(Vec<(u32, NetAddr)>),
    AddrV2(Vec<(u32, u64, u8, Vec<u8>, u16)>),
    GetData(Vec<(u32, BlockHash)>),
    NotFound(Vec<(u32, BlockHash)>),
    GetBlocks(u32, Vec<BlockHash>, BlockHash),
    Empty(u8),
}

fn arb_gen() -> impl Strategy<Value = Gen> {
    prop_oneof![
        (
            any::<i32>(),
            any::<u64>(),
            any::<i64>(),
            arb_netaddr(),
            arb_netaddr(),
            any::<u64>(),
            "[ -~]{0,40}",
            any::<i32>(),
            any::<bool>()
        )
            .prop_map(|(a, b, c, d, e, f, g, h, i)| Gen::Version(a, b, c, d, e, f, g, h, i)),
        any::<u64>().prop_map(Gen::Ping),
        any::<u64>().prop_map(Gen::Pong),
        (0i64..=2_100_000_000_000_000).prop_map(Gen::FeeFilter),
        (any::<bool>(), any::<u64>()).prop_map(|(a, v)| Gen::SendCmpct(a, v)),
        (any::<u32>(), prop::collection::vec(arb_hash(), 0..=101), arb_hash())
            .prop_map(|(v, l, s)| Gen::GetHeaders(v, l, s)),
        prop::collection::vec(arb_header(), 0..300).prop_map(Gen::Headers),
        prop::collection::vec((any::<u32>(), arb_hash()), 0..300).prop_map(Gen::Inv),
        prop::collection::vec((any::<u32>(), arb_netaddr()), 0..100).prop_map(Gen::Addr),
        prop::collection::vec(arb_addrv2(), 0..50).prop_map(Gen::AddrV2),
        prop::collection::vec((any::<u32>(), arb_hash()), 0..50).prop_map(Gen::GetData),
        prop::collection::vec((any::<u32>(), arb_hash()), 0..50).prop_map(Gen::NotFound),
        (any::<u32>(), prop::collection::vec(arb_hash(), 0..=101), arb_hash())
            .prop_map(|(v, l, s)| Gen::GetBlocks(v, l, s)),
        (0u8..6).prop_map(Gen::Empty),
    ]
}

fn encode(g: &Gen) -> Vec<u8> {
    let mut out = Vec::new();
    match g {
        Gen::Version(v, s, t, r, snd, n, ua, h, relay) => {
            let m = msg::Version {
                version: *v,
                services: ServiceFlags(*s),
                timestamp: *t,
                receiver: *r,
                sender: *snd,
                nonce: *n,
                user_agent: ua.as_bytes(),
                start_height: *h,
                relay: *relay,
            };
            write_message(&mut out, Magic::MAIN, &m)
        }
        Gen::Ping(n) => write_message(&mut out, Magic::MAIN, &msg::Ping(*n)),
        Gen::Pong(n) => write_message(&mut out, Magic::MAIN, &msg::Pong(*n)),
        Gen::FeeFilter(n) => write_message(&mut out, Magic::MAIN, &msg::FeeFilter(*n)),
        Gen::SendCmpct(a, v) => {
            write_message(&mut out, Magic::MAIN, &msg::SendCmpct { announce: *a, version: *v })
        }
        Gen::GetHeaders(v, l, s) => write_message(
            &mut out,
            Magic::MAIN,
            &msg::GetHeaders { version: *v, locator: l, stop_hash: *s },
        ),
        Gen::Headers(h) => write_message(&mut out, Magic::MAIN, &msg::Headers(h)),
        Gen::Inv(e) => {
            let e: Vec<_> = e.iter().map(|(t, h)| InvEntry::new(InvType(*t), *h)).collect();
            write_message(&mut out, Magic::MAIN, &msg::Inv(&e))
        }
        Gen::Addr(e) => {
            let e: Vec<_> = e.iter().map(|(t, a)| AddrEntry::new(*t, *a)).collect();
            write_message(&mut out, Magic::MAIN, &msg::Addr(&e))
        }
        Gen::AddrV2(e) => {
            let e: Vec<_> = e
                .iter()
                .map(|(time, services, network, addr, port)| AddrV2Entry {
                    time: *time,
                    services: ServiceFlags(*services),
                    network: *network,
                    addr,
                    port: *port,
                })
                .collect();
            write_message(&mut out, Magic::MAIN, &msg::AddrV2(&e))
        }
        Gen::GetData(e) | Gen::NotFound(e) => {
            let e: Vec<_> = e.iter().map(|(t, h)| InvEntry::new(InvType(*t), *h)).collect();
            if matches!(g, Gen::GetData(_)) {
                write_message(&mut out, Magic::MAIN, &msg::GetData(&e))
            } else {
                write_message(&mut out, Magic::MAIN, &msg::NotFound(&e))
            }
        }
        Gen::GetBlocks(v, l, s) => write_message(
            &mut out,
            Magic::MAIN,
            &msg::GetBlocks(msg::GetHeaders { version: *v, locator: l, stop_hash: *s }),
        ),
        Gen::Empty(0) => write_message(&mut out, Magic::MAIN, &msg::Verack),
        Gen::Empty(1) => write_message(&mut out, Magic::MAIN, &msg::SendHeaders),
        Gen::Empty(2) => write_message(&mut out, Magic::MAIN, &msg::WtxidRelay),
        Gen::Empty(3) => write_message(&mut out, Magic::MAIN, &msg::SendAddrV2),
        Gen::Empty(4) => write_message(&mut out, Magic::MAIN, &msg::GetAddr),
        Gen::Empty(_) => write_message(&mut out, Magic::MAIN, &msg::MemPool),
    };
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Generated messages: both decoders accept them with equal fields,
    /// rust-bitcoin re-encodes them to bitwire's bytes, and bitwire's
    /// decode-encode is the identity.
    #[test]
    fn generated_messages_agree(g in arb_gen()) {
        let bytes = encode(&g);
        let Ok(Status::Complete((frame, used))) = parse_frame(Magic::MAIN, &bytes) else {
            panic!("bitwire rejected its own encoding of {g:?}")
        };
        prop_assert_eq!(used, bytes.len());
        let m = frame.decode().unwrap();
        let known = !matches!(m, Message::Unknown { .. });
        prop_assert!(known);
        let mut again = Vec::new();
        write_message(&mut again, Magic::MAIN, &m);
        prop_assert_eq!(&again, &bytes);
        let (theirs, their_used) = deserialize_partial::<RawNetworkMessage>(&bytes).unwrap();
        prop_assert_eq!(their_used, bytes.len());
        prop_assert_eq!(bitcoin::consensus::serialize(&theirs), bytes.clone());
        differential::check_payload(frame.command, frame.payload);
        prop_assert_eq!(m.payload_len(), frame.payload.len());
    }

    /// Mutated messages: accept/reject and fields still agree, intended
    /// differences aside.
    #[test]
    fn mutated_payloads_agree(g in arb_gen(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4), cut in any::<usize>()) {
        let bytes = encode(&g);
        let command = Command::from_bytes(bytes[4..16].try_into().unwrap()).unwrap();
        let mut payload = bytes[24..].to_vec();
        if !payload.is_empty() {
            for (at, x) in flips {
                let at = at % payload.len();
                payload[at] ^= x;
            }
            payload.truncate(payload.len() - cut % payload.len().clamp(1, 8));
        }
        differential::check_payload(command, &payload);
    }
}
