//! Differential check against rust-bitcoin 0.32 (`bitcoin::p2p`), shared by
//! tests/wire_differential.rs and fuzz/fuzz_targets/wire_differential.rs
//! (both include this file; the library cannot, as `bitcoin` is only a
//! dev-dependency).
//!
//! The input's first byte picks a command, the rest is the payload; the
//! message is framed with a correct checksum (so the fuzzer is not stopped
//! by checksums on either side) and given to both decoders. They must agree
//! on accept/reject and, when both accept, on every field.
//!
//! Intended differences, where bitwire follows Bitcoin Core (each is skipped
//! by `intended_difference`):
//! 1. `version` short forms: Core accepts a payload that stops after
//!    addr_recv, after the nonce, after the user agent or after the start
//!    height; rust-bitcoin requires every field.
//! 2. `version` user agent: any bytes up to 256 (Core's
//!    MAX_SUBVERSION_LENGTH); rust-bitcoin requires UTF-8 and has no limit.
//! 3. `headers` tx counts: Core reads any CompactSize and ignores it;
//!    rust-bitcoin requires a single 0 byte.
//! 4. Count limits (2000 headers, 101 locator hashes, 50,000 inv, 1,000 addr
//!    / addrv2): Core's; rust-bitcoin has none.
//! 5. `feefilter` outside 0..=MAX_MONEY: Core ignores the value, bitwire
//!    surfaces it, rust-bitcoin rejects the message.
//! 6. addrv2 IPv6 addresses that are IPv4-mapped or OnionCat, and CJDNS
//!    addresses without the 0xfc prefix: Core accepts the message (the
//!    address manager ignores them); rust-bitcoin rejects.
//! 7. Booleans (`sendcmpct` announce, `version` relay): Core reads any
//!    non-zero byte as true; rust-bitcoin 0.32 rejects bytes other than 0/1.
//! 8. Envelope rules (tested elsewhere, not here): rust-bitcoin accepts any
//!    magic, any ASCII command (control bytes, text after a NUL) and up to
//!    5,000,000-byte payloads; bitwire applies Core's magic, command and
//!    4,000,000-byte rules.

use bitcoin::consensus::encode::{deserialize_partial, serialize};
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitwire::wire::fuzzing::PAYLOAD_COMMANDS;
use bitwire::wire::msg::{AddrV2, Encode, Message};
use bitwire::wire::{write_message, Command, PayloadError};
use bitwire::Magic;
use zerocopy::{Immutable, IntoBytes};

/// The fuzz entry point: selector byte + payload.
pub fn check(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else { return };
    let command = PAYLOAD_COMMANDS[selector as usize % PAYLOAD_COMMANDS.len()];
    check_payload(command, payload);
}

/// Frames `payload` under `command` and compares both decoders.
pub fn check_payload(command: Command, payload: &[u8]) {
    if payload.len() > bitwire::wire::MAX_PAYLOAD_SIZE {
        return;
    }
    let raw = Message::Unknown { command, payload };
    let mut frame = Vec::new();
    write_message(&mut frame, Magic::MAIN, &raw);
    let ours = Message::decode(command, payload);
    let theirs = deserialize_partial::<RawNetworkMessage>(&frame).map(|(m, used)| {
        assert_eq!(used, frame.len(), "rust-bitcoin stopped early");
        m
    });
    if matches!(ours, Ok(Message::Unknown { .. })) {
        // A command bitwire does not decode (rust-bitcoin may know it).
        return;
    }
    match (&ours, &theirs) {
        (Ok(m), Ok(t)) => compare(m, t.payload()),
        (Err(e), Ok(t)) => assert!(
            intended_difference_reject(e),
            "bitwire rejects what rust-bitcoin accepts: {command:?} {e:?} vs {t:?}"
        ),
        (Ok(m), Err(e)) => assert!(
            intended_difference_accept(m),
            "bitwire accepts what rust-bitcoin rejects: {m:?} vs {e:?}"
        ),
        (Err(_), Err(_)) => {}
    }
}

/// Rejections by bitwire that rust-bitcoin does not make (differences 2, 4).
fn intended_difference_reject(e: &PayloadError) -> bool {
    matches!(e, PayloadError::TooMany { .. } | PayloadError::TooLong { what: "user_agent", .. })
}

/// Acceptances by bitwire that rust-bitcoin does not make (1, 2, 3, 5, 6, 7).
fn intended_difference_accept(m: &Message<'_>) -> bool {
    match m {
        Message::Version(v) => {
            v.relay_byte().is_none_or(|b| b > 1)
                || core::str::from_utf8(v.user_agent().unwrap_or(b"")).is_err()
        }
        Message::SendCmpct { .. } => true, // only reached when the flag byte is not 0/1
        Message::Headers(h) => h.entries().any(|(_, tx)| tx != 0),
        Message::FeeFilter(rate) => !(0..=21_000_000 * 100_000_000).contains(rate),
        Message::AddrV2(a) => a.iter().any(|e| match (e.network, e.addr) {
            (2, a) => {
                a[..12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
                    || a[..6] == [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43]
            }
            (6, a) => a[0] != 0xfc,
            _ => false,
        }),
        _ => false,
    }
}

/// Both accepted: every field must agree.
fn compare(ours: &Message<'_>, theirs: &NetworkMessage) {
    match (ours, theirs) {
        (Message::Version(v), NetworkMessage::Version(t)) => {
            assert_eq!(v.version() as u32, t.version);
            assert_eq!(v.services().bits(), t.services.to_u64());
            assert_eq!(v.timestamp(), t.timestamp);
            assert_eq!(bitwire_bytes(v.receiver()), serialize(&t.receiver));
            assert_eq!(bitwire_bytes(v.sender().unwrap()), serialize(&t.sender));
            assert_eq!(v.nonce(), Some(t.nonce));
            assert_eq!(v.user_agent(), Some(t.user_agent.as_bytes()));
            assert_eq!(v.start_height(), Some(t.start_height));
            assert_eq!(v.relay(), Some(t.relay));
        }
        (Message::Verack, NetworkMessage::Verack)
        | (Message::SendHeaders, NetworkMessage::SendHeaders)
        | (Message::WtxidRelay, NetworkMessage::WtxidRelay)
        | (Message::SendAddrV2, NetworkMessage::SendAddrV2)
        | (Message::GetAddr, NetworkMessage::GetAddr)
        | (Message::MemPool, NetworkMessage::MemPool) => {}
        (Message::Ping(a), NetworkMessage::Ping(b))
        | (Message::Pong(a), NetworkMessage::Pong(b)) => {
            assert_eq!(a, b)
        }
        (Message::FeeFilter(a), NetworkMessage::FeeFilter(b)) => assert_eq!(a, b),
        (Message::SendCmpct { announce, version }, NetworkMessage::SendCmpct(t)) => {
            assert_eq!((*announce, *version), (t.send_compact, t.version));
        }
        (Message::GetHeaders(g), NetworkMessage::GetHeaders(t)) => {
            compare_locator(g, t.version, &t.locator_hashes, &t.stop_hash)
        }
        (Message::GetBlocks(g), NetworkMessage::GetBlocks(t)) => {
            compare_locator(g, t.version, &t.locator_hashes, &t.stop_hash)
        }
        (Message::Headers(h), NetworkMessage::Headers(t)) => {
            assert_eq!(h.len(), t.len());
            for (a, b) in h.iter().zip(t) {
                assert_eq!(a.bytes().to_vec(), serialize(b));
                assert_eq!(a.block_hash().0.to_vec(), serialize(&b.block_hash()));
            }
        }
        (Message::Inv(i), NetworkMessage::Inv(t))
        | (Message::GetData(i), NetworkMessage::GetData(t))
        | (Message::NotFound(i), NetworkMessage::NotFound(t)) => {
            assert_eq!(i.len(), t.len());
            for (a, b) in i.iter().zip(t) {
                assert_eq!(bitwire_bytes(a), serialize(b));
            }
        }
        (Message::Addr(a), NetworkMessage::Addr(t)) => {
            assert_eq!(a.len(), t.len());
            for (x, y) in a.iter().zip(t) {
                assert_eq!(bitwire_bytes(x), serialize(y));
            }
        }
        (Message::AddrV2(a), NetworkMessage::AddrV2(t)) => {
            assert_eq!(a.len(), t.len());
            for (x, y) in a.iter().zip(t) {
                let mut ours = Vec::new();
                AddrV2(&[x]).encode_payload(&mut ours);
                assert_eq!(ours[1..], serialize(y)[..]);
            }
        }
        (o, t) => panic!("decoded as different messages: {o:?} vs {t:?}"),
    }
}

fn compare_locator(
    g: &bitwire::wire::msg::GetHeadersView<'_>,
    version: u32,
    locator: &[bitcoin::BlockHash],
    stop: &bitcoin::BlockHash,
) {
    assert_eq!(g.version(), version);
    assert_eq!(g.locator().len(), locator.len());
    for (a, b) in g.locator().iter().zip(locator) {
        assert_eq!(a.0.to_vec(), serialize(b));
    }
    assert_eq!(g.stop_hash().0.to_vec(), serialize(stop));
}

fn bitwire_bytes<T: IntoBytes + Immutable + ?Sized>(t: &T) -> Vec<u8> {
    t.as_bytes().to_vec()
}
