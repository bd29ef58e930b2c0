//! The wire layer: zero-copy views over received bytes and encoders into
//! caller-owned buffers. No allocation to parse, no I/O, no clock.

mod hash;
mod header;

pub use hash::{BlockHash, ParseHashError};
pub use header::{BlockHeader, HEADER_SIZE};
