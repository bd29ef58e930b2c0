//! The 12-byte command field of the envelope.

use core::fmt;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::wire::WireError;

/// A message's command: 12 bytes, as on the wire.
///
/// A valid command (Bitcoin Core `CMessageHeader::IsMessageTypeValid`,
/// src/protocol.cpp) is printable ASCII (0x20..=0x7e) followed only by NULs.
/// Core also accepts an all-NUL command (and then ignores the message as
/// unknown); bitwire requires at least one byte, so an empty command is a
/// [`WireError::BadCommand`]: the message is dropped either way.
///
/// `Command` derives `FromBytes`, so a value read straight from memory may be
/// invalid; [`Command::from_bytes`] checks, and [`crate::wire::parse_frame`]
/// only hands out checked commands.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(transparent)]
pub struct Command([u8; 12]);

macro_rules! commands {
    ($($name:ident = $s:literal,)*) => {
        impl Command {
            $(
                #[doc = concat!("`", $s, "`")]
                pub const $name: Command = Command::from_static($s);
            )*
        }
    };
}

commands! {
    VERSION = "version",
    VERACK = "verack",
    PING = "ping",
    PONG = "pong",
    SENDHEADERS = "sendheaders",
    WTXIDRELAY = "wtxidrelay",
    SENDADDRV2 = "sendaddrv2",
    FEEFILTER = "feefilter",
    SENDCMPCT = "sendcmpct",
    GETHEADERS = "getheaders",
    GETBLOCKS = "getblocks",
    HEADERS = "headers",
    INV = "inv",
    GETDATA = "getdata",
    NOTFOUND = "notfound",
    ADDR = "addr",
    ADDRV2 = "addrv2",
    GETADDR = "getaddr",
    MEMPOOL = "mempool",
}

const fn valid(bytes: &[u8; 12]) -> bool {
    if bytes[0] == 0 {
        return false;
    }
    let mut i = 0;
    let mut ended = false;
    while i < 12 {
        let b = bytes[i];
        if b == 0 {
            ended = true;
        } else if ended || b < 0x20 || b > 0x7e {
            return false;
        }
        i += 1;
    }
    true
}

impl Command {
    /// A command from a name known at compile time (panics at compile time if invalid).
    pub(crate) const fn from_static(s: &str) -> Command {
        let s = s.as_bytes();
        let mut out = [0u8; 12];
        let mut i = 0;
        while i < s.len() {
            out[i] = s[i];
            i += 1;
        }
        assert!(valid(&out));
        Command(out)
    }

    /// A command from its name: 1 to 12 printable ASCII characters.
    pub fn new(name: &str) -> Result<Command, WireError> {
        let s = name.as_bytes();
        let mut out = [0u8; 12];
        if s.is_empty() || s.len() > 12 {
            let n = s.len().min(12);
            out[..n].copy_from_slice(&s[..n]);
            return Err(WireError::BadCommand { found: out });
        }
        out[..s.len()].copy_from_slice(s);
        Command::from_bytes(out)
    }

    /// Checks 12 wire bytes against Core's rule.
    pub fn from_bytes(bytes: [u8; 12]) -> Result<Command, WireError> {
        if valid(&bytes) {
            Ok(Command(bytes))
        } else {
            Err(WireError::BadCommand { found: bytes })
        }
    }

    /// Whether these 12 bytes follow Core's rule (always true for a command
    /// from [`Command::new`], [`Command::from_bytes`] or a parsed frame).
    pub const fn is_valid(&self) -> bool {
        valid(&self.0)
    }

    /// The 12 bytes as on the wire.
    pub const fn to_bytes(self) -> [u8; 12] {
        self.0
    }

    /// The name without its NUL padding. An invalid command (one read
    /// straight from memory) gives the longest valid ASCII prefix.
    pub fn as_str(&self) -> &str {
        let end = self.0.iter().position(|&b| !(0x20..=0x7e).contains(&b)).unwrap_or(12);
        core::str::from_utf8(&self.0[..end]).unwrap_or("")
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_rules() {
        assert_eq!(Command::VERACK.as_str(), "verack");
        assert_eq!(Command::new("sendaddrv2").unwrap(), Command::SENDADDRV2);
        assert_eq!(&Command::PING.to_bytes()[..5], b"ping\0");
        assert!(Command::new("").is_err());
        assert!(Command::new("thirteenchars").is_err());
        assert!(Command::new("tab\there").is_err());
        assert!(Command::new("caf\u{e9}").is_err());
        let mut text_after_nul = *b"ping\0\0\0\0\0\0\0\0";
        text_after_nul[6] = b'x';
        assert!(Command::from_bytes(text_after_nul).is_err());
        assert!(Command::from_bytes([0; 12]).is_err());
        assert!(Command::from_bytes(*b"twelve_chars").is_ok());
        assert_eq!(Command::new("~ !").unwrap().as_str(), "~ !");
    }
}
