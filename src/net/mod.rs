//! The only code that touches sockets: the mio reactor and bounded buffers.
