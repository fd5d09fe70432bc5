//! What an instance may do with sockets. CF put every container behind
//! iptables rules made from its security groups; here wasi:sockets asks
//! [`SocketPolicy`] about every address before it is used:
//!
//! - listening: only on the instance's own `$PORT` (a bind to port 0 is
//!   allowed, for the implicit bind of an outgoing connection, but such a
//!   socket may not listen);
//! - connecting and sending: only where one of the app's egress rules
//!   (its space's and the platform's security groups) allows — protocol,
//!   destination (`10.0.0.0/8`, `10.0.0.1-10.0.0.9` or one address) and
//!   ports (`443`, `80,443`, `8000-9000`; none means all).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use wasmtime_wasi::sockets::SocketAddrUse;

use crate::protocol::messages::EgressRule;
use crate::runtime::network::SocketCheck;

#[derive(Debug, Clone)]
pub struct SocketPolicy {
    /// The one port the instance may listen on (none for staging).
    pub port: Option<u16>,
    pub rules: Arc<Vec<EgressRule>>,
}

impl SocketPolicy {
    pub fn allows(&self, addr: SocketAddr, usage: SocketAddrUse) -> bool {
        match usage {
            SocketAddrUse::TcpBind => addr.port() == 0 || Some(addr.port()) == self.port,
            SocketAddrUse::TcpListen => Some(addr.port()) == self.port,
            // Answers to what the instance was allowed to send.
            SocketAddrUse::TcpAccept | SocketAddrUse::UdpReceive => true,
            SocketAddrUse::UdpBind => addr.port() == 0,
            SocketAddrUse::TcpConnect => self.rules.iter().any(|rule| rule.allows("tcp", addr)),
            SocketAddrUse::UdpSend => self.rules.iter().any(|rule| rule.allows("udp", addr)),
        }
    }

    /// The check as the runtime takes it.
    pub fn check(self) -> SocketCheck {
        Arc::new(move |addr, usage| {
            let allowed = self.allows(addr, usage);
            if !allowed {
                tracing::debug!("refused {usage:?} {addr}");
            }
            allowed
        })
    }
}

impl EgressRule {
    /// Whether this rule lets `protocol` traffic reach `addr`.
    pub fn allows(&self, protocol: &str, addr: SocketAddr) -> bool {
        (self.protocol == "all" || self.protocol == protocol)
            && destination_contains(&self.destination, addr.ip())
            && self.ports.as_deref().is_none_or(|ports| ports_contain(ports, addr.port()))
    }

    /// Why the rule is malformed, if it is (as CF's security group
    /// validation says it).
    pub fn problem(&self) -> Option<String> {
        if !["tcp", "udp", "icmp", "all"].contains(&self.protocol.as_str()) {
            return Some(format!("protocol {:?} must be tcp, udp, icmp or all", self.protocol));
        }
        if parse_destination(&self.destination).is_none() {
            return Some(format!("destination {:?} must be an address, a CIDR or a range a-b", self.destination));
        }
        match (&self.ports, self.protocol.as_str()) {
            (Some(_), "icmp" | "all") => Some("ports are only allowed for tcp and udp".into()),
            (Some(ports), _) if parse_ports(ports).is_none() => {
                Some(format!("ports {ports:?} must be a port, a list a,b or a range a-b"))
            }
            _ => None,
        }
    }
}

/// An address as a number, IPv4 (and IPv4-mapped IPv6) in the low 32 bits.
fn number(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v4) => (true, u32::from(v4) as u128),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (true, u32::from(v4) as u128),
            None => (false, u128::from(v6)),
        },
    }
}

/// The inclusive range of addresses a destination names.
fn parse_destination(destination: &str) -> Option<((bool, u128), (bool, u128))> {
    let destination = destination.trim();
    if let Some((first, last)) = destination.split_once('-') {
        let (first, last) = (number(first.trim().parse().ok()?), number(last.trim().parse().ok()?));
        return (first.0 == last.0 && first.1 <= last.1).then_some((first, last));
    }
    if let Some((base, bits)) = destination.split_once('/') {
        let (v4, base) = number(base.parse().ok()?);
        let width = if v4 { 32 } else { 128 };
        let bits: u32 = bits.parse().ok().filter(|&b| b <= width)?;
        let host_bits = width - bits;
        let mask = if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
        return Some(((v4, base & !mask), (v4, base | mask)));
    }
    let one = number(destination.parse().ok()?);
    Some((one, one))
}

fn destination_contains(destination: &str, ip: IpAddr) -> bool {
    let ip = number(ip);
    parse_destination(destination).is_some_and(|(first, last)| first.0 == ip.0 && first.1 <= ip.1 && ip.1 <= last.1)
}

/// Port ranges of `80`, `80,443` or `8000-9000`.
fn parse_ports(ports: &str) -> Option<Vec<(u16, u16)>> {
    if let Some((first, last)) = ports.split_once('-') {
        let (first, last): (u16, u16) = (first.trim().parse().ok()?, last.trim().parse().ok()?);
        return (first <= last).then(|| vec![(first, last)]);
    }
    ports.split(',').map(|p| p.trim().parse().ok().map(|p: u16| (p, p))).collect()
}

fn ports_contain(ports: &str, port: u16) -> bool {
    parse_ports(ports).is_some_and(|ranges| ranges.iter().any(|&(first, last)| first <= port && port <= last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, destination: &str, ports: Option<&str>) -> EgressRule {
        EgressRule { protocol: protocol.into(), destination: destination.into(), ports: ports.map(Into::into) }
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn rules_match_protocol_destination_and_ports_as_cf_writes_them() {
        let private = rule("tcp", "10.0.0.0/8", Some("5432,3306"));
        assert!(private.allows("tcp", addr("10.1.2.3:5432")));
        assert!(!private.allows("tcp", addr("10.1.2.3:80")));
        assert!(!private.allows("udp", addr("10.1.2.3:5432")));
        assert!(!private.allows("tcp", addr("11.0.0.1:5432")));
        let range = rule("all", "192.168.0.10-192.168.0.20", None);
        assert!(range.allows("udp", addr("192.168.0.15:53")));
        assert!(!range.allows("tcp", addr("192.168.0.21:1")));
        let ports = rule("udp", "0.0.0.0/0", Some("50-60"));
        assert!(ports.allows("udp", addr("8.8.8.8:53")));
        assert!(ports.allows("udp", addr("[::ffff:8.8.8.8]:53")), "IPv4-mapped addresses are IPv4");
        assert!(!rule("tcp", "127.0.0.1", None).allows("tcp", addr("127.0.0.2:1")));
    }

    #[test]
    fn malformed_rules_are_named() {
        assert!(rule("tcp", "10.0.0.0/33", None).problem().is_some());
        assert!(rule("sctp", "10.0.0.0/8", None).problem().is_some());
        assert!(rule("tcp", "10.0.0.9-10.0.0.1", None).problem().is_some());
        assert!(rule("icmp", "10.0.0.0/8", Some("80")).problem().is_some());
        assert!(rule("tcp", "10.0.0.0/8", Some("80-x")).problem().is_some());
        assert!(rule("tcp", "0.0.0.0/0", Some("1-65535")).problem().is_none());
    }

    #[test]
    fn an_instance_listens_on_its_port_only_and_connects_where_rules_allow() {
        let policy = SocketPolicy { port: Some(61000), rules: Arc::new(vec![rule("tcp", "10.0.0.0/8", None)]) };
        assert!(policy.allows(addr("0.0.0.0:61000"), SocketAddrUse::TcpBind));
        assert!(policy.allows(addr("0.0.0.0:61000"), SocketAddrUse::TcpListen));
        assert!(!policy.allows(addr("0.0.0.0:61001"), SocketAddrUse::TcpBind));
        assert!(policy.allows(addr("0.0.0.0:0"), SocketAddrUse::TcpBind), "implicit bind before connect");
        assert!(!policy.allows(addr("0.0.0.0:40000"), SocketAddrUse::TcpListen));
        assert!(policy.allows(addr("10.0.0.1:443"), SocketAddrUse::TcpConnect));
        assert!(!policy.allows(addr("127.0.0.1:5432"), SocketAddrUse::TcpConnect));
        assert!(!policy.allows(addr("10.0.0.1:53"), SocketAddrUse::UdpSend));
    }
}
