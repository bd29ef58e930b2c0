//! The only code that touches sockets: the mio reactor and bounded buffers.
//!
//! [`Service`] is the seam: the reactor moves bytes, the service decides.
//! [`Reactor`] is the event loop: one thread owns every socket, hands bytes
//! and the time to the service and carries out its [`Io`] instructions.

mod reactor;
mod seeds;
mod service;

pub use reactor::{
    stop_on_ctrl_c, Config, Exit, Handle, Reactor, Running, Stats, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_BUDGET, DEFAULT_READ_BUFFER,
};
pub use seeds::{dns_seeds, resolve_seeds, Resolved};
pub use service::{Closed, Io, Link, PeerId, Service, Time};
