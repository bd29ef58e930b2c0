//! Embedding the sync engine in your own event loop, without bitwire's mio
//! reactor: a plain `std::net` loop with non-blocking sockets.
//!
//! A serving engine (the bundled 40,000 mainnet headers) listens on
//! loopback in one thread; a syncing engine dials it from the main thread
//! and stops once synced.
//!
//! ```text
//! cargo run --release --example sync_own_loop
//! ```
//!
//! The whole contract is [`bitwire::net::Service`]: hand the engine what
//! happened (`connected`, `received`, `disconnected`, `tick`) and carry out
//! what it asks (`next_io`: connect, write, disconnect, stop).

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{Closed, Io, Link, PeerId, Service, Time};
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::{BlockHeader, HEADER_SIZE};
use bitwire::Network;

/// Drives `engine` until it asks to stop (or `deadline` passes).
fn run(engine: &mut Engine, listener: Option<TcpListener>, deadline: Instant) {
    let mut sockets: HashMap<PeerId, TcpStream> = HashMap::new();
    let mut next_id = 1u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let now = Time::now();
        let mut busy = false;
        // New inbound connections.
        if let Some(l) = &listener {
            while let Ok((s, addr)) = l.accept() {
                s.set_nonblocking(true).expect("non-blocking socket");
                let id = PeerId(next_id);
                next_id += 1;
                sockets.insert(id, s);
                engine.connected(id, addr, Link::Inbound, now);
                busy = true;
            }
        }
        // Reads, until WouldBlock.
        let mut closed = Vec::new();
        for (&id, s) in sockets.iter_mut() {
            loop {
                match s.read(&mut buf) {
                    Ok(0) => {
                        closed.push((id, Closed::ByPeer));
                        break;
                    }
                    Ok(n) => {
                        engine.received(id, &buf[..n], now);
                        busy = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        closed.push((id, Closed::Error(e.kind())));
                        break;
                    }
                }
            }
        }
        for (id, why) in closed {
            sockets.remove(&id);
            engine.disconnected(id, why, now);
        }
        if engine.next_wakeup().is_some_and(|t| t <= now) {
            engine.tick(now);
        }
        // Instructions. Writes are retried every round while output waits.
        while let Some(io) = engine.next_io() {
            busy = true;
            match io {
                Io::Connect(addr) => match TcpStream::connect(addr) {
                    Ok(s) => {
                        s.set_nonblocking(true).expect("non-blocking socket");
                        let id = PeerId(next_id);
                        next_id += 1;
                        sockets.insert(id, s);
                        engine.connected(id, addr, Link::Outbound, now);
                    }
                    Err(e) => engine.connect_failed(addr, e.kind(), now),
                },
                Io::Disconnect(id) => {
                    sockets.remove(&id);
                    engine.disconnected(id, Closed::ByUs, now);
                }
                Io::Stop => return,
                _ => {}
            }
        }
        for (&id, s) in sockets.iter_mut() {
            let out = engine.pending_output(id);
            if out.is_empty() {
                continue;
            }
            match s.write(out) {
                Ok(n) => {
                    engine.written(id, n);
                    busy = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => {} // the read side reports the close
            }
        }
        if Instant::now() > deadline {
            return;
        }
        if !busy {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).expect("bundled headers");
    let headers: Vec<BlockHeader> = bytes
        .chunks_exact(HEADER_SIZE)
        .map(|c| BlockHeader::from_array(c.try_into().expect("80 bytes")))
        .collect();
    let params = Params::for_network(Network::Main);

    // The server: a tree with the bundled chain, serving only.
    let mut tree = HeaderTree::new(params);
    tree.accept(&headers[1..], Time::now().as_secs()).expect("bundled headers are valid");
    let mut config = Config::new(Network::Main);
    config.sync = false;
    config.nonce_seed = std::process::id() as u64;
    let mut server = Engine::new(config, tree, None);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("non-blocking listener");
    let addr: SocketAddr = listener.local_addr().expect("bound address");
    let deadline = Instant::now() + Duration::from_secs(60);
    let server_thread = std::thread::spawn(move || {
        run(&mut server, Some(listener), deadline);
        server
    });

    // The client: syncs from the server and stops.
    let mut config = Config::new(Network::Main);
    config.connect = vec![addr];
    config.serve = false;
    config.stop_when_synced = true;
    config.nonce_seed = std::process::id() as u64 ^ 0x5eed;
    let mut client = Engine::new(config, HeaderTree::new(params), None);
    let start = Instant::now();
    run(&mut client, None, deadline);
    let elapsed = start.elapsed();
    while let Some(event) = client.poll_event() {
        if let Event::Synced { height, tip } = event {
            println!("synced to height {height}, tip {tip}");
        }
    }
    println!(
        "{} headers in {:.3} s ({:.0} headers/s)",
        client.height(),
        elapsed.as_secs_f64(),
        f64::from(client.height()) / elapsed.as_secs_f64()
    );
    assert!(client.is_synced(), "the sync did not finish");
    assert_eq!(client.tip(), headers[39_999].block_hash());
    // The server runs until its deadline in this example; a real one runs
    // until told to stop.
    drop(server_thread);
}
