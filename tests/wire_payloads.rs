//! Payload rules that the vectors do not reach: version short forms, the
//! limits at their boundary, BIP155 address lengths, CompactSize rules.

use bitwire::wire::msg::{self, Encode, Message};
use bitwire::wire::{BlockHash, Command, NetAddr, PayloadError, ServiceFlags};

fn full_version(user_agent: &[u8]) -> Vec<u8> {
    let v = msg::Version {
        version: 70016,
        services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
        timestamp: 1_700_000_000,
        receiver: NetAddr::new(ServiceFlags::NONE, [7; 16], 8333),
        sender: NetAddr::default(),
        nonce: 0x0102_0304_0506_0708,
        user_agent,
        start_height: 123,
        relay: false,
    };
    let mut out = Vec::new();
    v.encode_payload(&mut out);
    assert_eq!(out.len(), v.payload_len());
    out
}

fn version(payload: &[u8]) -> Result<msg::VersionView<'_>, PayloadError> {
    match Message::decode(Command::VERSION, payload)? {
        Message::Version(v) => Ok(v),
        other => panic!("{other:?}"),
    }
}

#[test]
fn version_short_forms_follow_core() {
    let full = full_version(b"/x/");
    assert_eq!(full.len(), 46 + 34 + 4 + 4 + 1);
    // Core stops reading at the end of any optional group.
    for (len, nonce, ua, height, relay) in [
        (46, None, None, None, None),
        (80, Some(0x0102_0304_0506_0708), None, None, None),
        (84, Some(0x0102_0304_0506_0708), Some(&b"/x/"[..]), None, None),
        (88, Some(0x0102_0304_0506_0708), Some(&b"/x/"[..]), Some(123), None),
        (89, Some(0x0102_0304_0506_0708), Some(&b"/x/"[..]), Some(123), Some(false)),
    ] {
        let v = version(&full[..len]).unwrap();
        assert_eq!(
            (v.nonce(), v.user_agent(), v.start_height(), v.relay()),
            (nonce, ua, height, relay)
        );
        assert_eq!(v.version(), 70016);
        assert_eq!(v.receiver().port(), 8333);
        // The view re-encodes exactly the form it came in.
        let mut out = Vec::new();
        Message::Version(v).encode_payload(&mut out);
        assert_eq!(out, &full[..len]);
        // Missing fields take Core's defaults in the owned form.
        let owned = v.to_version();
        assert_eq!(owned.relay, relay.unwrap_or(true));
        assert_eq!(owned.start_height, height.unwrap_or(0));
    }
    // Stopping inside a group is an error, as Core's stream throws.
    for len in [0, 45, 47, 79, 81, 83, 85, 87] {
        assert!(
            matches!(version(&full[..len]), Err(PayloadError::Truncated { .. })),
            "length {len}"
        );
    }
    assert_eq!(
        version(&[full.clone(), vec![0]].concat()),
        Err(PayloadError::TrailingBytes { count: 1 })
    );
}

#[test]
fn version_user_agent_limit_and_relay_byte() {
    assert!(version(&full_version(&[b'a'; 256])).is_ok());
    assert_eq!(
        version(&full_version(&[b'a'; 257])),
        Err(PayloadError::TooLong { what: "user_agent", len: 257, max: 256 })
    );
    // Not UTF-8: Core keeps it (sanitised for display), so does bitwire.
    assert_eq!(
        version(&full_version(&[0xff, 0xfe])).unwrap().user_agent(),
        Some(&[0xff, 0xfe][..])
    );
    let mut p = full_version(b"");
    *p.last_mut().unwrap() = 2;
    let v = version(&p).unwrap();
    assert_eq!((v.relay(), v.relay_byte()), (Some(true), Some(2)));
}

fn locator(n: usize) -> Vec<u8> {
    let hashes = vec![BlockHash([9; 32]); n];
    let g = msg::GetHeaders { version: 70016, locator: &hashes, stop_hash: BlockHash::ZERO };
    let mut out = Vec::new();
    g.encode_payload(&mut out);
    out
}

#[test]
fn locator_limit_is_101() {
    let max = locator(101);
    let Ok(Message::GetHeaders(g)) = Message::decode(Command::GETHEADERS, &max) else { panic!() };
    assert_eq!(g.locator().len(), 101);
    assert_eq!(
        Message::decode(Command::GETHEADERS, &locator(102)),
        Err(PayloadError::TooMany { what: "locator", count: 102, max: 101 })
    );
    assert!(matches!(Message::decode(Command::GETBLOCKS, &locator(3)), Ok(Message::GetBlocks(_))));
}

#[test]
fn compact_size_rules_apply_to_counts() {
    // 1 inv entry counted in a 3-byte CompactSize: non-canonical.
    let mut p = vec![0xfd, 1, 0];
    p.extend_from_slice(&[0; 36]);
    assert_eq!(
        Message::decode(Command::INV, &p),
        Err(PayloadError::NonCanonicalCompactSize { value: 1, encoded_len: 3 })
    );
    // A count above MAX_SIZE, before any limit or allocation.
    assert_eq!(
        Message::decode(Command::HEADERS, &[0xfe, 1, 0, 0, 2]),
        Err(PayloadError::CompactSizeTooLarge { value: 0x0200_0001 })
    );
    // Counts promising more than is there.
    assert!(matches!(
        Message::decode(Command::HEADERS, &[2, 0]),
        Err(PayloadError::Truncated { field: "headers", needed: 162, available: 1 })
    ));
}

fn addrv2(network: u8, addr_len: usize, declared: &[u8]) -> Vec<u8> {
    let mut p = vec![1];
    p.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    p.push(9); // services, CompactSize
    p.push(network);
    p.extend_from_slice(declared);
    p.extend(std::iter::repeat_n(0xfc, addr_len));
    p.extend_from_slice(&8333u16.to_be_bytes());
    p
}

#[test]
fn addrv2_lengths_per_bip155() {
    for (net, len) in [(1u8, 4usize), (2, 16), (3, 10), (4, 32), (5, 32), (6, 16)] {
        let ok = addrv2(net, len, &[len as u8]);
        let Ok(Message::AddrV2(a)) = Message::decode(Command::ADDRV2, &ok) else { panic!("{net}") };
        let e = a.iter().next().unwrap();
        assert_eq!((e.network, e.addr.len(), e.port, e.services.bits()), (net, len, 8333, 9));
        let bad = addrv2(net, len + 1, &[len as u8 + 1]);
        assert_eq!(
            Message::decode(Command::ADDRV2, &bad),
            Err(PayloadError::BadAddressLength {
                network: net,
                expected: len,
                found: len as u64 + 1
            })
        );
    }
    // Unknown networks: any length up to 512, kept as bytes.
    assert!(Message::decode(Command::ADDRV2, &addrv2(42, 512, &[0xfd, 0, 2])).is_ok());
    assert_eq!(
        Message::decode(Command::ADDRV2, &addrv2(42, 513, &[0xfd, 1, 2])),
        Err(PayloadError::TooLong { what: "addrv2 address", len: 513, max: 512 })
    );
}

#[test]
fn empty_messages_reject_trailing_bytes_and_unknown_is_raw() {
    for c in [Command::VERACK, Command::SENDHEADERS, Command::WTXIDRELAY, Command::GETADDR] {
        assert!(Message::decode(c, &[]).is_ok());
        assert_eq!(Message::decode(c, &[0]), Err(PayloadError::TrailingBytes { count: 1 }));
    }
    let tx = Command::new("tx").unwrap();
    assert_eq!(
        Message::decode(tx, b"\x01\x02"),
        Ok(Message::Unknown { command: tx, payload: b"\x01\x02" })
    );
    assert_eq!(
        Message::decode(Command::FEEFILTER, &(-5i64).to_le_bytes()),
        Ok(Message::FeeFilter(-5))
    );
    assert_eq!(
        Message::decode(Command::SENDCMPCT, &[1, 2, 0, 0, 0, 0, 0, 0, 0]),
        Ok(Message::SendCmpct { announce: true, version: 2 })
    );
    assert!(matches!(Message::decode(Command::PING, &[0; 7]), Err(PayloadError::Truncated { .. })));
}
