//! The body of the `peer_handshake` fuzz target (after Core's
//! `p2p_handshake`), here so the target is one line and plain `cargo test`
//! replays its seeds. Not a stable API (hidden from the docs).
//!
//! One [`Peer`], inbound or outbound (first byte), is fed a program: each
//! byte picks an operation (a well-formed message from a template, raw
//! bytes, time passing, the reactor writing our output) and the bytes after
//! it are its arguments. After every step:
//!
//! - the handshake only moves forward (`AwaitVersion`, `AwaitVerack`,
//!   `Ready`), `Ready` only after the peer's `version` and `verack`, and the
//!   handler hears `on_ready` exactly once and no message before it;
//! - everything we send is a well-formed frame with our magic: an outbound
//!   peer speaks `version` first, an inbound one answers only after the
//!   peer's `version`; one `verack` and one `version` at most, the `verack`
//!   never before their `version`; every payload we send decodes;
//! - queued output stays within the output budget, buffers within the
//!   per-peer bound, and an `Err` ends the connection (nothing more is fed).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use super::{Conn, DisconnectReason, Handler, HandshakeState, Local, Peer};
use crate::net::{Link, PeerId, Time};
use crate::wire::msg::{
    Encode, GetHeaders, Headers, Message, Ping, Pong, SendAddrV2, SendHeaders, Verack, Version,
    WtxidRelay,
};
use crate::wire::{
    write_message, BlockHash, Command, Deframer, NetAddr, PayloadError, ServiceFlags, WireError,
};
use crate::Magic;

const MAGIC: Magic = Magic::MAIN;
/// The nonce of our own `version` (a peer echoing it is ourselves).
const OUR_NONCE: u64 = 0x5eed;
const MAX_OUTPUT: usize = 64 * 1024;
const MAX_MESSAGE: usize = 32 * 1024;

#[derive(Default)]
struct Recorder {
    ready: u32,
    messages: u32,
}

impl Handler for Recorder {
    fn is_own_nonce(&mut self, nonce: u64) -> bool {
        nonce == OUR_NONCE
    }
    fn best_height(&self) -> i32 {
        0
    }
    fn on_ready(&mut self, conn: &mut Conn, _now: Time) {
        assert_eq!(conn.state(), HandshakeState::Ready);
        self.ready += 1;
    }
    fn on_message(
        &mut self,
        conn: &mut Conn,
        _msg: Message<'_>,
        _now: Time,
    ) -> Result<(), DisconnectReason> {
        assert_eq!(conn.state(), HandshakeState::Ready, "a message reached the handler early");
        self.messages += 1;
        Ok(())
    }
    fn on_bad_payload(
        &mut self,
        _conn: &mut Conn,
        _command: Command,
        _error: PayloadError,
    ) -> Result<(), DisconnectReason> {
        Ok(())
    }
    fn on_dropped(&mut self, _conn: &mut Conn, _error: WireError) {}
}

fn rank(s: HandshakeState) -> u8 {
    match s {
        HandshakeState::AwaitVersion => 0,
        HandshakeState::AwaitVerack => 1,
        HandshakeState::Ready => 2,
    }
}

/// What we sent, as the remote side parses it.
struct Sent {
    deframer: Deframer,
    commands: Vec<Command>,
}

/// Runs one program; any input is valid. Returns where the handshake ended
/// (for tests of the seeds).
pub fn handshake(data: &[u8]) -> HandshakeState {
    let Some((&first, mut input)) = data.split_first() else {
        return HandshakeState::AwaitVersion;
    };
    let link = if first & 1 == 0 { Link::Inbound } else { Link::Outbound };
    let mut local = Local::new(MAGIC);
    local.max_output = MAX_OUTPUT;
    local.max_message = MAX_MESSAGE;
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 8333));
    let mut now = Time(1_700_000_000_000);
    let mut peer = Peer::new(PeerId(1), addr, link, &local, OUR_NONCE, 0, now);
    let mut handler = Recorder::default();
    let mut sent = Sent { deframer: Deframer::new(MAGIC), commands: Vec::new() };
    let mut state = peer.conn().state();
    let mut msg = Vec::new();

    let next = |input: &mut &[u8]| -> u8 {
        let (&b, rest) = input.split_first().unwrap_or((&0, &[]));
        *input = rest;
        b
    };

    while !input.is_empty() {
        let op = next(&mut input);
        let result = match op % 6 {
            0 | 1 => {
                msg.clear();
                let kind = next(&mut input);
                let arg = next(&mut input);
                match kind % 10 {
                    0 => {
                        let nonce = if arg == 0xff { OUR_NONCE } else { u64::from(arg) + 1 };
                        let version = 31_000 + i32::from(arg) * 200;
                        put(&mut msg, &remote_version(version, u64::from(kind), nonce));
                    }
                    1 => put(&mut msg, &Verack),
                    2 => put(&mut msg, &Ping(u64::from(arg))),
                    3 => put(&mut msg, &Pong(u64::from(arg))),
                    4 => put(&mut msg, &SendHeaders),
                    5 => put(&mut msg, &WtxidRelay),
                    6 => put(&mut msg, &SendAddrV2),
                    7 => put(&mut msg, &Headers(&[])),
                    8 => put(
                        &mut msg,
                        &GetHeaders { version: 70016, locator: &[], stop_hash: BlockHash::ZERO },
                    ),
                    _ => {
                        // A message cut anywhere, delivered in two pieces below.
                        put(&mut msg, &Ping(7));
                        msg.truncate(usize::from(arg) % 32);
                    }
                }
                let cut = usize::from(next(&mut input)).min(msg.len());
                let (a, b) = msg.split_at(cut);
                peer.receive(a, &local, &mut handler, now)
                    .and_then(|()| peer.receive(b, &local, &mut handler, now))
            }
            2 => {
                let len = usize::from(next(&mut input)) * 2;
                let (bytes, rest) = input.split_at(len.min(input.len()));
                input = rest;
                peer.receive(bytes, &local, &mut handler, now)
            }
            3 => {
                let ms = u64::from(next(&mut input)) << 10 | u64::from(next(&mut input));
                now = Time(now.0 + ms * 1000);
                peer.tick(&local, now)
            }
            _ => {
                let n = peer.pending_output().len();
                let part = usize::from(next(&mut input));
                let n = if part == 0xff { n } else { n.min(part * 512) };
                let theirs = peer.conn().remote().is_some();
                check_sent(&mut sent, &peer.pending_output()[..n], link, theirs);
                peer.written(n);
                Ok(())
            }
        };
        let now_state = peer.conn().state();
        assert!(rank(now_state) >= rank(state), "handshake went back: {state:?} -> {now_state:?}");
        state = now_state;
        assert!(peer.pending_output().len() <= MAX_OUTPUT, "output past its budget");
        assert!(peer.buffered_bytes() <= MAX_MESSAGE + 1 + 2 * MAX_OUTPUT);
        if state == HandshakeState::Ready {
            assert!(peer.conn().remote().is_some(), "ready without their version");
            assert_eq!(handler.ready, 1);
        } else {
            assert_eq!((handler.ready, handler.messages), (0, 0));
        }
        if result.is_err() {
            break;
        }
    }
    let theirs = peer.conn().remote().is_some();
    check_sent(&mut sent, peer.pending_output(), link, theirs);
    if link == Link::Outbound {
        assert_eq!(
            sent.commands.first(),
            Some(&Command::VERSION),
            "outbound sends version at once"
        );
    }
    state
}

fn put(out: &mut Vec<u8>, m: &impl Encode) {
    write_message(out, MAGIC, m);
}

fn remote_version(version: i32, services: u64, nonce: u64) -> Version<'static> {
    Version {
        version,
        services: ServiceFlags(services | 9),
        timestamp: 1_700_000_000,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce,
        user_agent: b"/fuzz:0/",
        start_height: 0,
        relay: false,
    }
}

/// Parses what we wrote, as the remote would, and checks its order.
fn check_sent(sent: &mut Sent, bytes: &[u8], link: Link, their_version: bool) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let k = sent.deframer.push(rest);
        rest = &rest[k..];
        while let Some(frame) = sent.deframer.next_frame() {
            let frame = frame.expect("we only send well-formed frames");
            assert!(Message::decode(frame.command, frame.payload).is_ok(), "we sent a bad payload");
            sent.commands.push(frame.command);
        }
    }
    let c = &sent.commands;
    if link == Link::Outbound {
        assert!(c.is_empty() || c[0] == Command::VERSION, "outbound speaks version first: {c:?}");
    } else if !c.is_empty() {
        assert!(their_version, "inbound answered before their version: {c:?}");
        assert_eq!(c[0], Command::VERSION);
    }
    let veracks = c.iter().filter(|&&x| x == Command::VERACK).count();
    assert!(veracks <= 1, "{veracks} veracks");
    if veracks == 1 {
        assert!(their_version, "verack before their version");
    }
    assert!(c.iter().filter(|&&x| x == Command::VERSION).count() <= 1);
}
