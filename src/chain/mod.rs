//! Header consensus: network parameters, Bitcoin Core's header rules, the
//! header tree with its best chain, and the on-disk header store.
//!
//! ```text
//!   params   per-network constants as data (src/kernel/chainparams.cpp)
//!   rules    CheckBlockHeader, ContextualCheckBlockHeader, GetNextWorkRequired
//!   tree     HeaderTree: every valid header, chainwork, best chain, locators
//!   store    HeaderStore: crash-safe append-only headers.dat
//!   window   ChainWindow: all rules over a fixed 2016-header window (presync)
//! ```
//!
//! The sync engine's entry point is [`HeaderTree::accept`]: a batch of headers
//! and the time in, an [`Accepted`] summary or a [`HeaderRejection`] naming
//! Core's reject reason out.

mod error;
pub mod fuzzing;
pub mod mine;
pub mod params;
pub mod rules;
pub mod store;
mod tree;
pub mod window;

pub use error::HeaderError;
pub use params::Params;
pub use store::{HeaderStore, StoreError};
pub use tree::{Accepted, HeaderInfo, HeaderRejection, HeaderTree, Tip};
pub use window::ChainWindow;
