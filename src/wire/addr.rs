//! Network addresses: the 26-byte `CAddress` without time (in `version`), the
//! 30-byte `addr` entry, and BIP155 `addrv2` entries.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use zerocopy::big_endian::U16 as U16Be;
use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::wire::ServiceFlags;

/// Services, IPv6 (or IPv4-mapped) address and port, as in `version`'s
/// `addr_recv` / `addr_from` (src/protocol.h `CAddress` without its time):
/// 26 bytes, port big-endian.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct NetAddr {
    /// Service bits, u64 LE.
    pub services: U64,
    /// 16-byte address; IPv4 as `::ffff:a.b.c.d`.
    pub ip: [u8; 16],
    /// Port, big-endian.
    pub port: U16Be,
}

const _: () = assert!(core::mem::size_of::<NetAddr>() == 26);

impl NetAddr {
    /// An address from its parts.
    pub fn new(services: ServiceFlags, ip: [u8; 16], port: u16) -> NetAddr {
        NetAddr { services: U64::new(services.0), ip, port: U16Be::new(port) }
    }

    /// An address from a socket address (IPv4 is written v4-mapped).
    pub fn from_socket_addr(addr: SocketAddr, services: ServiceFlags) -> NetAddr {
        let ip = match addr.ip() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        NetAddr::new(services, ip, addr.port())
    }

    /// The service bits.
    pub fn services(&self) -> ServiceFlags {
        ServiceFlags(self.services.get())
    }

    /// The address; IPv4-mapped addresses come back as IPv4.
    pub fn ip(&self) -> IpAddr {
        let v6 = Ipv6Addr::from(self.ip);
        match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port.get()
    }

    /// The socket address.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip(), self.port())
    }
}

impl fmt::Debug for NetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetAddr({:?}, {})", self.services(), self.socket_addr())
    }
}

/// One `addr` entry: a u32 time then a [`NetAddr`], 30 bytes.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct AddrEntry {
    /// Last-seen time, u32 LE seconds.
    pub time: U32,
    /// The address.
    pub addr: NetAddr,
}

const _: () = assert!(core::mem::size_of::<AddrEntry>() == 30);

impl AddrEntry {
    /// An entry.
    pub fn new(time: u32, addr: NetAddr) -> AddrEntry {
        AddrEntry { time: U32::new(time), addr }
    }

    /// The time.
    pub fn time(&self) -> u32 {
        self.time.get()
    }
}

impl fmt::Debug for AddrEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddrEntry({}, {:?})", self.time(), self.addr)
    }
}

/// BIP155 network ids and the address length each requires
/// (src/netaddress.h `BIP155Network`, `ADDR_*_SIZE`).
pub mod bip155 {
    /// IPv4, 4 bytes.
    pub const IPV4: u8 = 1;
    /// IPv6, 16 bytes.
    pub const IPV6: u8 = 2;
    /// Tor v2, 10 bytes (no longer relayed by Core, still size-checked).
    pub const TORV2: u8 = 3;
    /// Tor v3, 32 bytes.
    pub const TORV3: u8 = 4;
    /// I2P, 32 bytes.
    pub const I2P: u8 = 5;
    /// CJDNS, 16 bytes.
    pub const CJDNS: u8 = 6;
    /// Longest address of any network (src/netaddress.h `MAX_ADDRV2_SIZE`).
    pub const MAX_ADDRV2_SIZE: usize = 512;

    /// The length a known network id requires; `None` for unknown ids, whose
    /// addresses Core skips (any length up to [`MAX_ADDRV2_SIZE`]).
    pub const fn expected_len(network: u8) -> Option<usize> {
        match network {
            IPV4 => Some(4),
            IPV6 => Some(16),
            TORV2 => Some(10),
            TORV3 => Some(32),
            I2P => Some(32),
            CJDNS => Some(16),
            _ => None,
        }
    }
}

/// One `addrv2` entry (BIP155), borrowing its address bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrV2Entry<'a> {
    /// Last-seen time.
    pub time: u32,
    /// Service bits (a CompactSize on the wire, not range-checked).
    pub services: ServiceFlags,
    /// BIP155 network id (see [`bip155`]).
    pub network: u8,
    /// The address bytes; their length matches the network id when known.
    pub addr: &'a [u8],
    /// Port.
    pub port: u16,
}

impl AddrV2Entry<'_> {
    /// The IP address, for the IPv4 and IPv6 networks.
    pub fn ip(&self) -> Option<IpAddr> {
        match (self.network, self.addr.len()) {
            (bip155::IPV4, 4) => Some(IpAddr::V4(Ipv4Addr::new(
                self.addr[0],
                self.addr[1],
                self.addr[2],
                self.addr[3],
            ))),
            (bip155::IPV6, 16) => {
                let mut b = [0u8; 16];
                b.copy_from_slice(self.addr);
                Some(IpAddr::V6(Ipv6Addr::from(b)))
            }
            _ => None,
        }
    }
}
