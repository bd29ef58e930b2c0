//! Memory per idle peer: 2,000 inbound peers finish the handshake and go
//! idle; the heap the engine holds for them, measured with a counting
//! allocator, stays far below issue 6's 32 KiB per peer. A peer that
//! received a big message gives its buffers back once idle.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use core::time::Duration;

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{Link, PeerId, Service};
use bitwire::peer::IDLE_INPUT_CAPACITY;
use bitwire::sync::sim::{Sim, START};
use bitwire::sync::{Config, Engine};
use bitwire::wire::msg::{GetHeaders, Headers, Pong, Verack, Version};
use bitwire::wire::{
    parse_frame, write_message, BlockHash, BlockHeader, Command, NetAddr, ServiceFlags, Status,
    HEADER_SIZE,
};
use bitwire::Network;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The allocator counts for the whole process: one test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn handshake_bytes(nonce: u64) -> Vec<u8> {
    let magic = Network::Main.magic();
    let mut hs = Vec::new();
    let v = Version {
        version: 70016,
        services: ServiceFlags(9),
        timestamp: START.as_secs() as i64,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce,
        user_agent: b"/Satoshi:28.0.0/",
        start_height: 900_000,
        relay: true,
    };
    write_message(&mut hs, magic, &v);
    write_message(&mut hs, magic, &Verack);
    hs
}

#[test]
fn idle_peers_hold_little_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const PEERS: u64 = 2000;
    let mut config = Config::new(Network::Main);
    config.sync = false;
    let mut e = Engine::new(config, HeaderTree::new(Params::for_network(Network::Main)), None);
    let hs: Vec<Vec<u8>> = (0..PEERS).map(|i| handshake_bytes(i + 1)).collect();
    let now = START;
    let base = LIVE.load(Ordering::Relaxed);
    for i in 0..PEERS {
        let p = PeerId(i + 1);
        e.connected(p, Sim::addr_of(1), Link::Inbound, now);
        e.received(p, &hs[i as usize], now);
        let n = e.pending_output(p).len();
        e.written(p, n);
    }
    while e.next_io().is_some() {}
    while e.poll_event().is_some() {}
    assert_eq!(e.ready_count(), PEERS as usize);
    let per_peer = (LIVE.load(Ordering::Relaxed) - base) / PEERS as isize;
    eprintln!("idle peer after handshake: {per_peer} heap bytes");
    assert!(per_peer < 8 * 1024, "{per_peer} bytes per idle peer");
    assert!(e.buffered_bytes() / PEERS as usize <= 4096 + 512);
}

#[test]
fn buffers_shrink_when_a_busy_peer_goes_idle() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).unwrap();
    let headers: Vec<BlockHeader> = bytes[..2001 * HEADER_SIZE]
        .chunks_exact(HEADER_SIZE)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect();
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    tree.accept(&headers[1..], START.as_secs()).unwrap();
    let mut e = Engine::new(Config::new(Network::Main), tree, None);
    let p = PeerId(1);
    let mut now = START;
    e.connected(p, Sim::addr_of(1), Link::Inbound, now);
    e.received(p, &handshake_bytes(1), now);
    let magic = Network::Main.magic();
    // A big message in (a full headers answer) and a big one out (our answer
    // to a getheaders).
    let mut big = Vec::new();
    write_message(&mut big, magic, &Headers(&headers[1..]));
    let genesis = headers[0].block_hash();
    write_message(
        &mut big,
        magic,
        &GetHeaders { version: 70016, locator: &[genesis], stop_hash: BlockHash::ZERO },
    );
    e.received(p, &big, now);
    let events: Vec<_> = std::iter::from_fn(|| e.poll_event()).collect();
    assert_eq!(e.ready_count(), 1, "{events:?}");
    let n = e.pending_output(p).len();
    assert!(n > 160_000);
    assert!(e.buffered_bytes() > 300_000, "{}", e.buffered_bytes());
    // Idle through a few ping rounds, answering every ping as a live peer does.
    for _ in 0..4 {
        let out = e.pending_output(p).to_vec();
        e.written(p, out.len());
        let mut rest = &out[..];
        while let Ok(Status::Complete((frame, used))) = parse_frame(magic, rest) {
            if frame.command == Command::PING {
                let mut pong = Vec::new();
                let nonce = u64::from_le_bytes(frame.payload.try_into().unwrap());
                write_message(&mut pong, magic, &Pong(nonce));
                e.received(p, &pong, now);
            }
            rest = &rest[used..];
        }
        now = e.next_wakeup().unwrap().max(now);
        e.tick(now);
    }
    assert!(now.saturating_since(START) >= Duration::from_secs(120));
    assert_eq!(e.ready_count(), 1);
    assert!(
        e.buffered_bytes() <= IDLE_INPUT_CAPACITY + 4096,
        "idle buffers: {}",
        e.buffered_bytes()
    );
}
