//! The multi-peer header-sync engine: which peer to ask, stalls, progress.
