//! One connection's sans-IO protocol: handshake, ping, timeouts, misbehaviour.
