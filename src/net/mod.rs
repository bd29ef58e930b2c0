//! The only code that touches sockets: the mio reactor and bounded buffers.
//!
//! [`Service`] is the seam: the reactor moves bytes, the service decides.

mod service;

pub use service::{Closed, Io, Link, PeerId, Service, Time};
