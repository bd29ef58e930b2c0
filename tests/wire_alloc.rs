//! Parsing allocates nothing: a counting global allocator (this file's own,
//! hence its own test binary) sees zero allocations while a 2000-header
//! message and a version message are parsed, decoded and walked, and while a
//! warmed-up deframer cuts a stream of them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bitwire::wire::msg::{Headers, Message, Version};
use bitwire::wire::{
    parse_frame, write_message, BlockHeader, Deframer, NetAddr, ServiceFlags, Status,
};
use bitwire::Magic;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// GlobalAlloc contract; the thread-local counter neither allocates nor
// touches the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same layout as given to us, forwarded to System.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from System.alloc/realloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: ptr came from System with this layout; forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (r, ALLOCS.with(Cell::get) - before)
}

fn mainnet_headers(n: usize) -> Vec<BlockHeader> {
    let path = format!("{}/corpus/vectors/headers/mainnet_0_39999.bin", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    bytes.chunks_exact(80).take(n).map(|c| BlockHeader::from_array(c.try_into().unwrap())).collect()
}

fn stream() -> Vec<u8> {
    let headers = mainnet_headers(2000);
    let mut out = Vec::new();
    write_message(&mut out, Magic::MAIN, &Headers(&headers));
    let version = Version {
        version: 70016,
        services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
        timestamp: 1_700_000_000,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 8333),
        sender: NetAddr::default(),
        nonce: 42,
        user_agent: b"/bitwire:0.1.0/",
        start_height: 900_000,
        relay: true,
    };
    write_message(&mut out, Magic::MAIN, &version);
    out
}

fn walk(buf: &[u8]) -> (usize, u32) {
    let mut at = 0;
    let mut headers = 0;
    let mut xor = 0u32;
    while let Ok(Status::Complete((frame, used))) = parse_frame(Magic::MAIN, &buf[at..]) {
        match frame.decode().unwrap() {
            Message::Headers(h) => {
                for hdr in h.iter() {
                    xor ^= hdr.nonce();
                    headers += 1;
                }
            }
            Message::Version(v) => {
                xor ^= v.user_agent().unwrap().len() as u32 ^ v.start_height().unwrap() as u32
            }
            other => panic!("unexpected {other:?}"),
        }
        at += used;
    }
    (headers, xor)
}

#[test]
fn parsing_allocates_nothing() {
    let buf = stream();
    let ((headers, xor), n) = allocations(|| walk(&buf));
    assert_eq!(headers, 2000);
    assert_ne!(xor, 0);
    assert_eq!(n, 0, "parse + decode + iterate allocated {n} times");
}

#[test]
fn warm_deframer_allocates_nothing() {
    let buf = stream();
    let mut d = Deframer::new(Magic::MAIN);
    let run = |d: &mut Deframer| {
        let mut frames = 0;
        for chunk in buf.chunks(1460) {
            let mut chunk = chunk;
            while !chunk.is_empty() {
                let k = d.push(chunk);
                chunk = &chunk[k..];
                while let Some(f) = d.next_frame() {
                    let f = f.unwrap();
                    f.decode().unwrap();
                    frames += 1;
                }
            }
        }
        frames
    };
    assert_eq!(run(&mut d), 2); // warm-up: the buffer grows here
    let (frames, n) = allocations(|| (0..10).map(|_| run(&mut d)).sum::<usize>());
    assert_eq!(frames, 20);
    assert_eq!(n, 0, "warm deframer allocated {n} times");
}
