//! Every P2P vector in corpus/vectors/p2p decodes to the values recorded
//! there, and re-encodes to the same bytes.

use bitwire::wire::msg::{Encode, Message};
use bitwire::wire::{
    parse_frame, write_message, BlockHeader, Command, Deframer, NetAddr, PayloadError, Status,
};
use bitwire::Magic;
use serde_json::{json, Value};

fn corpus(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/corpus/vectors/p2p/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn known_answers() -> Vec<Value> {
    let v: Value = serde_json::from_slice(&corpus("p2p_known_answers.json")).unwrap();
    v["vectors"].as_array().unwrap().clone()
}

fn addr_json(a: &NetAddr) -> Value {
    json!({"services": a.services().bits(), "ip": a.ip().to_string(), "port": a.port()})
}

fn header_json(h: &BlockHeader, tx: u64) -> Value {
    json!({
        "header": hex::encode(h.bytes()),
        "hash": h.block_hash().to_string(),
        "version": h.version(),
        "prev": h.prev_hash().to_string(),
        "merkle_root": bitwire::wire::BlockHash(h.merkle_root).to_string(),
        "time": h.time(),
        "bits": format!("{:08x}", h.bits.get()),
        "nonce": h.nonce(),
        "txn_count": tx,
    })
}

/// The decoded fields in the vectors' own schema.
fn to_json(m: &Message<'_>) -> Value {
    match m {
        Message::Version(v) => json!({
            "version": v.version(),
            "services": v.services().bits(),
            "timestamp": v.timestamp(),
            "addr_recv": addr_json(v.receiver()),
            "addr_from": v.sender().map(addr_json),
            "nonce": v.nonce(),
            "user_agent": v.user_agent().map(|u| String::from_utf8_lossy(u).into_owned()),
            "start_height": v.start_height(),
            "relay": v.relay(),
        }),
        Message::GetHeaders(g) | Message::GetBlocks(g) => json!({
            "version": g.version(),
            "locator_count": g.locator().len(),
            "locator_hashes": g.locator().iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            "hash_stop": g.stop_hash().to_string(),
        }),
        Message::Headers(h) => json!({
            "count": h.len(),
            "headers": h.entries().map(|(h, tx)| header_json(h, tx)).collect::<Vec<_>>(),
        }),
        Message::Inv(i) | Message::GetData(i) | Message::NotFound(i) => json!({
            "count": i.len(),
            "items": i.iter().map(|e| json!({"type": e.inv_type().0, "hash": e.hash.to_string()}))
                .collect::<Vec<_>>(),
        }),
        Message::Ping(n) | Message::Pong(n) => json!({"nonce": n}),
        Message::Verack | Message::GetAddr | Message::MemPool => json!({}),
        other => panic!("no JSON form for {other:?} in this test"),
    }
}

fn round_trip(m: &Message<'_>, payload: &[u8]) {
    let mut out = Vec::new();
    m.encode_payload(&mut out);
    assert_eq!(out, payload);
    assert_eq!(m.payload_len(), payload.len());
}

#[test]
fn known_answers_decode_to_recorded_values() {
    let mut checked = 0;
    for v in known_answers() {
        let name = v["name"].as_str().unwrap();
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let Some(command) = v["command"].as_str() else { continue };
        let command = Command::new(command).unwrap();
        let (message, payload) = if v["kind"] == "envelope" {
            let env = &v["envelope"];
            let status = parse_frame(Magic::MAIN, &bytes).unwrap();
            if env["payload_available"] != env["length"] {
                assert_eq!(status, Status::Partial, "{name}");
                checked += 1;
                continue;
            }
            let Status::Complete((frame, used)) = status else { panic!("{name}") };
            assert_eq!(frame.command, command, "{name}");
            assert_eq!(frame.payload.len() as u64, env["length"].as_u64().unwrap(), "{name}");
            assert_eq!(hex::encode(frame.checksum), env["checksum"], "{name}");
            assert_eq!((bytes.len() - used) as u64, env["trailing_bytes"].as_u64().unwrap());
            let m = frame.decode().unwrap();
            let mut again = Vec::new();
            write_message(&mut again, Magic::MAIN, &m);
            assert_eq!(again, bytes[..used], "{name}: envelope round trip");
            (m, frame.payload)
        } else {
            (Message::decode(command, &bytes).unwrap_or_else(|e| panic!("{name}: {e}")), &bytes[..])
        };
        round_trip(&message, payload);
        match message {
            Message::Unknown { command: c, .. } => {
                // reject, filterclear: surfaced raw, with their command.
                assert_eq!(c, command);
            }
            _ => assert_eq!(to_json(&message), v["decoded"], "{name}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 39);
}

#[test]
fn negative_vectors_are_typed_errors() {
    let by_name = |n: &str| {
        let v = known_answers().into_iter().find(|v| v["name"] == n).unwrap();
        hex::decode(v["hex"].as_str().unwrap()).unwrap()
    };
    // btcd's limits are not Core's (501 locators, 2001 headers, 50001 inv);
    // each is over Core's limit too, and is rejected from the count alone.
    assert_eq!(
        Message::decode(Command::GETHEADERS, &by_name("maxGetHeadersEncoded")),
        Err(PayloadError::TooMany { what: "locator", count: 501, max: 101 })
    );
    assert_eq!(
        Message::decode(Command::HEADERS, &by_name("maxHeadersEncoded")),
        Err(PayloadError::TooMany { what: "headers", count: 2001, max: 2000 })
    );
    assert_eq!(
        Message::decode(Command::INV, &by_name("maxInvEncoded")),
        Err(PayloadError::TooMany { what: "inv", count: 50001, max: 50000 })
    );
    // A non-zero tx count after a header: btcd rejects it, Core reads and
    // ignores it, and so does bitwire (exposing the count).
    let trans = by_name("transHeaderEncoded");
    let Ok(Message::Headers(h)) = Message::decode(Command::HEADERS, &trans) else { panic!() };
    assert_eq!(h.entries().map(|(_, tx)| tx).collect::<Vec<_>>(), [1]);
    round_trip(&Message::Headers(h), &trans);
    // The bare header vector is 80 bytes: a header, not a message.
    let hdr = by_name("baseBlockHdrEncoded");
    assert_eq!(BlockHeader::view(&hdr).unwrap().nonce(), 123123);
}

#[test]
fn bitcore_capture_is_24_valid_messages() {
    let log = corpus("bitcore_p2p_connection.log");
    assert_eq!(log.len(), 77_283);
    let (events, end) = bitwire::wire::fuzzing::deframe(&log, &[1500]);
    assert_eq!(end, None);
    let mut commands = Vec::new();
    for e in &events {
        let bitwire::wire::fuzzing::Event::Frame(cmd, payload, _) = e else {
            panic!("error in the capture: {e:?}")
        };
        let m = Message::decode(*cmd, payload).unwrap();
        round_trip(&m, payload);
        if let Message::Addr(a) = m {
            assert!(!a.is_empty() && a.len() <= 1000);
        }
        commands.push(cmd.as_str().to_owned());
    }
    assert_eq!(commands.len(), 24);
    assert_eq!(commands[..5], ["version", "verack", "inv", "inv", "addr"]);
    assert_eq!(commands.iter().filter(|c| *c == "addr").count(), 4);
    assert_eq!(commands.iter().filter(|c| *c == "inv").count(), 18);
}

#[test]
fn bitcore_messages_round_trip() {
    let all: Value = serde_json::from_slice(&corpus("bitcore_p2p_messages.json")).unwrap();
    let mut n = 0;
    for (name, v) in all.as_object().unwrap() {
        for (variant, hexs) in v.as_object().unwrap() {
            let bytes = hex::decode(hexs.as_str().unwrap()).unwrap();
            let status = parse_frame(Magic::MAIN, &bytes).unwrap();
            if variant == "messagenofrelay" {
                assert_eq!(status, Status::Partial);
                continue;
            }
            let Status::Complete((frame, used)) = status else { panic!("{name}") };
            assert_eq!(used, bytes.len());
            assert_eq!(frame.command.as_str(), name);
            let m = frame.decode().unwrap();
            round_trip(&m, frame.payload);
            n += 1;
        }
    }
    assert_eq!(n, 21);
}

#[test]
fn deframer_reader_interface_matches_push() {
    let log = corpus("bitcore_p2p_connection.log");
    let mut d = Deframer::new(Magic::MAIN);
    let mut pos = 0;
    let mut frames = 0;
    while pos < log.len() {
        let buf = d.read_buf();
        let n = buf.len().min(log.len() - pos).min(777);
        buf[..n].copy_from_slice(&log[pos..pos + n]);
        d.filled(n);
        pos += n;
        while let Some(f) = d.next_frame() {
            f.unwrap();
            frames += 1;
        }
    }
    assert_eq!(frames, 24);
    assert_eq!(d.buffered(), 0);
    assert!(d.capacity() <= 64 * 1024, "buffer grew to {}", d.capacity());
}
