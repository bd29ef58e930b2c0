//! The body of the `kernel_diff` fuzz target, kept here so the target is
//! one line and `cargo test` replays every seed in `corpus/kernel_diff/`.
//!
//! The input is read as 8-byte operations, each building one header on
//! regtest and giving it to both engines ([`Pair::submit`]), which must agree
//! on the verdict, the class, the reason string and the best tip. Headers
//! build on any header built so far (forks anywhere, children of rejected
//! headers), with times at the median-time edge, back and forth, near the
//! clock's two-hour edge, wrong and invalid `nBits`, old and odd versions,
//! unmined nonces, raw bytes, and resubmissions of known and rejected headers.

use bitwire::wire::BlockHeader;
use bitwire::Network;

use crate::regtest::{Ancestry, Spec, REGTEST_LIMIT_BITS};
use crate::{unix_now, Pair, Verdict};

/// Most headers one input builds: the kernel checks its whole block index
/// after every regtest header, and each input starts a fresh kernel.
pub const MAX_HEADERS: usize = 64;

/// Versions other than 4 an operation can pick.
const ODD_VERSIONS: [i32; 8] = [1, 2, 3, 0, -1, 0x2000_0000, i32::MIN, 5];

/// Runs one input through a fresh regtest [`Pair`]; panics with the
/// disagreement if the engines differ. Any input is valid. Returns the
/// verdicts both engines gave, in order (so tests can see what a corpus reaches).
pub fn differential(data: &[u8]) -> Vec<Verdict> {
    let mut pair = Pair::new(Network::Regtest).expect("libbitcoinkernel starts");
    let mut anc = Ancestry::new(Network::Regtest);
    let genesis = pair.bitwire.tree().params().genesis();
    // Headers Core accepted (both engines, else the test has already failed).
    let mut known: Vec<BlockHeader> = vec![genesis];
    let mut last = genesis;
    let mut verdicts = Vec::new();

    for (n, op) in data.chunks_exact(8).take(MAX_HEADERS).enumerate() {
        let pick = |b: u8| known[usize::from(b & 0x7f) * known.len() / 128];
        let header = match op[7] & 0x0f {
            // Raw bytes: the op repeated over 80 bytes.
            0 => {
                let mut raw = [0u8; 80];
                for (i, b) in raw.iter_mut().enumerate() {
                    *b = op[i % 8];
                }
                BlockHeader::from_array(&raw)
            }
            // A header both engines already have.
            1 => pick(op[0]),
            // The previous header again, whatever became of it (a header
            // rejected as time-too-new may pass a second later; others not).
            9 => last,
            _ => build(op, if op[0] & 0x80 == 0 { last } else { pick(op[0]) }, &anc, n as u64),
        };
        match pair.submit(&header) {
            Ok(v) => {
                if v == Verdict::Accepted && anc.add(&header).is_some() && !known.contains(&header)
                {
                    known.push(header);
                }
                verdicts.push(v);
            }
            Err(d) => panic!("libbitcoinkernel and bitwire disagree: {d}"),
        }
        last = header;
    }
    verdicts
}

/// One header on `parent` as the operation says.
fn build(op: &[u8], parent: BlockHeader, anc: &Ancestry, tag: u64) -> BlockHeader {
    let mut spec =
        Spec::child(&parent, 600, tag | (u64::from(op[0]) << 40) | (u64::from(op[1]) << 48));
    let parent_time = i64::from(parent.time());
    let mtp = anc.median_time_past(&parent.block_hash()).map_or(parent_time, i64::from);
    let small = i64::from(op[2] as i8);
    let time = match op[1] >> 6 {
        // Near the parent, back or forth.
        0 => parent_time + small * 16,
        // The median-time edge: mtp - 1, mtp, mtp + 1, ...
        1 => mtp + small.rem_euclid(4) - 1,
        // Near the clock's edge (now + 2 h), either side.
        2 => unix_now() as i64 + 7200 + small.clamp(-3, 3),
        // testnet's 20-minute rule edge (regtest allows min-difficulty blocks).
        _ => parent_time + 1200 + small.rem_euclid(3) - 1,
    };
    spec.time = time.clamp(0, i64::from(u32::MAX)) as u32;
    spec.bits = match op[3] {
        0..=0xdf => REGTEST_LIMIT_BITS,
        0xe0..=0xe7 => 0x207f_fffe, // harder than the limit: bad-diffbits when mined
        0xe8..=0xef => 0x2080_0000, // negative
        0xf0..=0xf3 => 0x2100_ffff, // above powLimit
        0xf4..=0xf7 => 0,           // zero target
        _ => u32::from_le_bytes([op[4], op[5], op[3], 0x20]),
    };
    if op[5] >= 0xc0 {
        spec.version = ODD_VERSIONS[usize::from(op[5] & 7)];
    }
    if op[6] & 0x0f != 0 {
        spec.mined()
    } else if op[6] & 0x10 != 0 {
        spec.unmined()
    } else {
        let mut h = spec.header();
        h.nonce = u32::from(op[6]).into();
        h
    }
}
