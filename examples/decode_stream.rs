//! Embedding the wire layer: decode a raw P2P byte stream, chunk by chunk.
//!
//! Reads a file (default: the bundled mainnet capture) in small chunks the way a
//! socket would deliver them, straight into the deframer's buffer, and prints
//! one line per message. Nothing is allocated per message: frames and payload
//! views borrow the deframer's buffer.
//!
//! ```sh
//! cargo run --example decode_stream [FILE]
//! ```

use std::io::Read;

use bitwire::wire::msg::Message;
use bitwire::wire::Deframer;
use bitwire::Network;

fn main() -> std::io::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/p2p/bitcore_p2p_connection.log").into()
    });
    let mut file = std::fs::File::open(&path)?;
    let mut deframer = Deframer::new(Network::Main.magic());
    let (mut messages, mut errors) = (0usize, 0usize);
    loop {
        // Read at most 1 KiB at a time, as a socket might, directly into the deframer.
        let buf = deframer.read_buf();
        let room = buf.len().min(1024);
        let n = file.read(&mut buf[..room])?;
        if n == 0 {
            break;
        }
        deframer.filled(n);
        while let Some(frame) = deframer.next_frame() {
            let frame = match frame {
                Ok(frame) => frame,
                Err(e) => {
                    // The deframer has already resynchronised; carry on.
                    println!("stream error: {e}");
                    errors += 1;
                    continue;
                }
            };
            messages += 1;
            match frame.decode() {
                Ok(Message::Version(v)) => println!(
                    "version {} services {:?} agent {:?} height {:?}",
                    v.version(),
                    v.services(),
                    String::from_utf8_lossy(v.user_agent().unwrap_or_default()),
                    v.start_height()
                ),
                Ok(Message::Headers(h)) => {
                    let first = h.iter().next().map(|h| h.block_hash());
                    println!("headers: {} (first {first:?})", h.len())
                }
                Ok(_) => println!("{} ({} bytes)", frame.command.as_str(), frame.payload.len()),
                Err(e) => println!("{}: bad payload: {e}", frame.command.as_str()),
            }
        }
    }
    if let Some(e) = deframer.finish() {
        println!("stream ended inside a message: {e}");
        errors += 1;
    }
    println!("{messages} messages, {errors} errors");
    Ok(())
}
