//! # bitwire
//!
//! Bitcoin's peer-to-peer wire protocol and header sync at the speed of the
//! hardware.
//!
//! ```text
//!   net      the only code that touches sockets: a mio reactor moving bytes
//!    |
//!   sync     multi-peer header sync: which peer to ask, stalls, progress
//!    |
//!   peer     one connection's sans-IO protocol: handshake, ping, timeouts
//!    |
//!   chain    header validation (Core's rules per network), header tree, store
//!    |
//!   pow      sha256d in batches, compact targets, chainwork
//!    |
//!   wire     zero-copy message views and encoders, the stream deframer
//! ```
//!
//! Every layer below `net` is sans-IO: bytes and time in, events and bytes out.
#![deny(missing_docs)]
#![warn(rust_2018_idioms)]

pub mod chain;
mod mem;
pub mod net;
pub mod network;
pub mod peer;
pub mod pow;
pub mod sync;
pub mod wire;

pub use network::{Magic, Network};
