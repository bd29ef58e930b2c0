//! `bitwire decode`: a raw P2P byte stream in, one JSON object per message
//! (or per error) out.

use std::io::{self, Read, Write};

use bitwire::wire::msg::Message;
use bitwire::wire::{AddrV2Entry, BlockHeader, Deframer, Frame, NetAddr, PayloadError, WireError};
use bitwire::Network;

use super::json::{self, Obj};

const USAGE: &str = "\
bitwire decode: print each message of a raw P2P byte stream as one JSON line

USAGE:
    bitwire decode [--network NAME] [FILE | -]
    bitwire decode [--network NAME] --hex HEX

Reads FILE (or standard input when FILE is - or absent), or the bytes given
as hex, as a stream of Bitcoin P2P v1 messages and prints one line per message:
    {\"command\":..,\"length\":..,\"checksum\":\"<hex>\",\"payload\":{..},\"offset\":..}
Hashes are printed byte-reversed, as Bitcoin Core's RPC shows them.

Problems are lines with an \"error\" field: bad-magic, oversized-payload,
bad-command, bad-checksum, truncated (stream level; bytes skipped to recover
are counted in \"skipped\"), or a payload error (too-many, trailing-bytes,
non-canonical-compact-size, ...). The exit status is 1 if any error was seen,
2 on a usage or read error, 0 otherwise.

OPTIONS:
    -n, --network NAME   main (default), testnet3, testnet4, signet, regtest
        --hex HEX        decode these bytes instead of a file
    -h, --help           print this message

EXAMPLE:
    bitwire decode corpus/vectors/p2p/bitcore_p2p_connection.log
";

enum Input {
    Stdin,
    File(std::path::PathBuf),
    Hex(String),
}

/// Runs `bitwire decode` with the arguments after the subcommand name.
pub fn run(mut args: lexopt::Parser) -> i32 {
    use lexopt::Arg::{Long, Short, Value};
    let mut network = Network::Main;
    let mut input = None;
    loop {
        let arg = match args.next() {
            Ok(Some(arg)) => arg,
            Ok(None) => break,
            Err(e) => return usage_error(&e.to_string()),
        };
        match arg {
            Short('h') | Long("help") => {
                print!("{USAGE}");
                return 0;
            }
            Short('n') | Long("network") => {
                let name = match args.value() {
                    Ok(v) => v.to_string_lossy().into_owned(),
                    Err(e) => return usage_error(&e.to_string()),
                };
                match name.parse() {
                    Ok(n) => network = n,
                    Err(e) => return usage_error(&format!("{e}")),
                }
            }
            Long("hex") => match args.value() {
                Ok(v) => input = Some(Input::Hex(v.to_string_lossy().into_owned())),
                Err(e) => return usage_error(&e.to_string()),
            },
            Value(v) if input.is_none() => {
                input = Some(if v == "-" { Input::Stdin } else { Input::File(v.into()) })
            }
            other => return usage_error(&other.unexpected().to_string()),
        }
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match input.unwrap_or(Input::Stdin) {
        Input::Stdin => decode_stream(io::stdin().lock(), network, &mut out),
        Input::File(path) => match std::fs::File::open(&path) {
            Ok(f) => decode_stream(f, network, &mut out),
            Err(e) => {
                eprintln!("bitwire decode: {}: {e}", path.display());
                return 2;
            }
        },
        Input::Hex(h) => match parse_hex(&h) {
            Some(bytes) => decode_stream(&bytes[..], network, &mut out),
            None => return usage_error("--hex wants an even number of hex digits"),
        },
    };
    match result.and_then(|errors| out.flush().map(|_| errors)) {
        Ok(0) => 0,
        Ok(_) => 1,
        Err(e) => {
            eprintln!("bitwire decode: {e}");
            2
        }
    }
}

fn usage_error(msg: &str) -> i32 {
    eprintln!("bitwire decode: {msg}\n\n{USAGE}");
    2
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

/// An error line waiting for the count of bytes skipped after it.
struct Pending {
    line: Obj,
    discarded_at: u64,
}

struct Printer<'w, W: Write> {
    out: &'w mut W,
    pending: Option<Pending>,
    errors: u64,
}

impl<W: Write> Printer<'_, W> {
    fn flush_pending(&mut self, discarded_now: u64) -> io::Result<()> {
        if let Some(p) = self.pending.take() {
            let line = p.line.u64("skipped", discarded_now - p.discarded_at).finish();
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }
}

/// Decodes a whole stream; returns how many errors were printed.
fn decode_stream<W: Write>(mut src: impl Read, network: Network, out: &mut W) -> io::Result<u64> {
    let mut d = Deframer::new(network.magic());
    let mut p = Printer { out, pending: None, errors: 0 };
    loop {
        drain(&mut d, &mut p)?;
        let buf = d.read_buf();
        let n = match src.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        d.filled(n);
    }
    drain(&mut d, &mut p)?;
    p.flush_pending(d.discarded())?;
    if let Some(e) = d.finish() {
        p.errors += 1;
        let line = wire_error(&e).u64("offset", d.consumed()).finish();
        writeln!(p.out, "{line}")?;
    }
    Ok(p.errors)
}

fn drain<W: Write>(d: &mut Deframer, p: &mut Printer<'_, W>) -> io::Result<()> {
    loop {
        let line = match d.next_frame() {
            None => return Ok(()),
            Some(Ok(frame)) => Ok(frame_line(&frame)),
            Some(Err(e)) => Err(e),
        };
        // Bytes skipped while recovering belong to the previous error.
        p.flush_pending(d.discarded())?;
        match line {
            Ok((obj, bad)) => {
                let end = d.consumed();
                p.errors += u64::from(bad);
                let len = obj.1;
                let line = obj.0.u64("offset", end - 24 - len as u64).finish();
                writeln!(p.out, "{line}")?;
            }
            Err(e) => {
                p.errors += 1;
                let line = wire_error(&e).u64("offset", d.consumed());
                p.pending = Some(Pending { line, discarded_at: d.discarded() });
            }
        }
    }
}

fn wire_error(e: &WireError) -> Obj {
    let obj = Obj::new().str("error", e.name()).str("detail", &e.to_string());
    match *e {
        WireError::BadMagic { expected, found } => {
            obj.str("expected", &expected.to_string()).str("found", &hex(&found))
        }
        WireError::BadCommand { found } => obj.str("found", &hex(&found)),
        WireError::OversizedPayload { declared } => obj.u64("length", declared.into()),
        WireError::BadChecksum { expected, found } => {
            obj.str("expected", &hex(&expected)).str("found", &hex(&found))
        }
        WireError::Truncated { needed, available } => {
            obj.u64("needed", needed as u64).u64("available", available as u64)
        }
        _ => obj,
    }
}

/// The line for a frame (without its offset), its payload length, and
/// whether the payload failed to decode.
fn frame_line(frame: &Frame<'_>) -> ((Obj, usize), bool) {
    let obj = Obj::new()
        .str("command", frame.command.as_str())
        .u64("length", frame.payload.len() as u64)
        .str("checksum", &hex(&frame.checksum));
    match frame.decode() {
        Ok(m) => ((obj.raw("payload", &payload_json(&m)), frame.payload.len()), false),
        Err(e) => ((payload_error(obj, &e), frame.payload.len()), true),
    }
}

fn payload_error(obj: Obj, e: &PayloadError) -> Obj {
    obj.str("error", e.name()).str("detail", &e.to_string())
}

fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn addr_json(a: &NetAddr) -> String {
    Obj::new()
        .u64("services", a.services().bits())
        .str("ip", &a.ip().to_string())
        .u64("port", a.port().into())
        .finish()
}

fn header_json(h: &BlockHeader, tx_count: u64) -> String {
    Obj::new()
        .str("hash", &h.block_hash().to_string())
        .i64("version", h.version().into())
        .str("prev", &h.prev_hash().to_string())
        .str("merkle_root", &bitwire::wire::BlockHash(h.merkle_root).to_string())
        .u64("time", h.time().into())
        .str("bits", &format!("{:08x}", h.bits.get()))
        .u64("nonce", h.nonce().into())
        .u64("txn_count", tx_count)
        .str("header", &hex(h.bytes()))
        .finish()
}

fn addrv2_json(e: &AddrV2Entry<'_>) -> String {
    let addr = e.ip().map_or_else(|| hex(e.addr), |ip| ip.to_string());
    Obj::new()
        .u64("time", e.time.into())
        .u64("services", e.services.bits())
        .u64("network", e.network.into())
        .str("addr", &addr)
        .u64("port", e.port.into())
        .finish()
}

fn opt<T>(obj: Obj, key: &str, v: Option<T>, f: impl FnOnce(Obj, &str, T) -> Obj) -> Obj {
    match v {
        Some(v) => f(obj, key, v),
        None => obj.raw(key, "null"),
    }
}

/// The decoded fields, in the schema of corpus/vectors/p2p/p2p_known_answers.json.
fn payload_json(m: &Message<'_>) -> String {
    match m {
        Message::Version(v) => {
            let o = Obj::new()
                .i64("version", v.version().into())
                .u64("services", v.services().bits())
                .i64("timestamp", v.timestamp())
                .raw("addr_recv", &addr_json(v.receiver()));
            let o = opt(o, "addr_from", v.sender(), |o, k, a| o.raw(k, &addr_json(a)));
            let o = opt(o, "nonce", v.nonce(), |o, k, n| o.u64(k, n));
            let o = opt(o, "user_agent", v.user_agent(), |o, k, ua| {
                o.str(k, &String::from_utf8_lossy(ua))
            });
            let o = opt(o, "start_height", v.start_height(), |o, k, h| o.i64(k, h.into()));
            opt(o, "relay", v.relay(), |o, k, r| o.bool(k, r)).finish()
        }
        Message::Ping(n) | Message::Pong(n) => Obj::new().u64("nonce", *n).finish(),
        Message::FeeFilter(rate) => Obj::new().i64("feerate", *rate).finish(),
        Message::SendCmpct { announce, version } => {
            Obj::new().bool("announce", *announce).u64("version", *version).finish()
        }
        Message::GetHeaders(g) | Message::GetBlocks(g) => Obj::new()
            .u64("version", g.version().into())
            .u64("locator_count", g.locator().len() as u64)
            .raw(
                "locator_hashes",
                &json::array(g.locator().iter().map(|h| json::string(&h.to_string()))),
            )
            .str("hash_stop", &g.stop_hash().to_string())
            .finish(),
        Message::Headers(h) => Obj::new()
            .u64("count", h.len() as u64)
            .raw("headers", &json::array(h.entries().map(|(h, tx)| header_json(h, tx))))
            .finish(),
        Message::Inv(i) | Message::GetData(i) | Message::NotFound(i) => Obj::new()
            .u64("count", i.len() as u64)
            .raw(
                "items",
                &json::array(i.iter().map(|e| {
                    Obj::new()
                        .u64("type", e.inv_type().0.into())
                        .str("hash", &e.hash.to_string())
                        .finish()
                })),
            )
            .finish(),
        Message::Addr(a) => Obj::new()
            .u64("count", a.len() as u64)
            .raw(
                "addrs",
                &json::array(a.iter().map(|e| {
                    Obj::new()
                        .u64("time", e.time().into())
                        .u64("services", e.addr.services().bits())
                        .str("ip", &e.addr.ip().to_string())
                        .u64("port", e.addr.port().into())
                        .finish()
                })),
            )
            .finish(),
        Message::AddrV2(a) => Obj::new()
            .u64("count", a.len() as u64)
            .raw("addrs", &json::array(a.iter().map(|e| addrv2_json(&e))))
            .finish(),
        Message::Unknown { payload, .. } => Obj::new().str("hex", &hex(payload)).finish(),
        _ => Obj::new().finish(),
    }
}
