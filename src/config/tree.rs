//! The parsed configuration before typing: sections with their explicitly set values,
//! in file order, with where each came from. `config -n` prints from this tree, and
//! `settings.rs` builds typed views from it.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::defs::{self, SectionKind};

/// A position in a configuration file, for error messages and warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<Path>,
    pub line: usize,
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.bits)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}", self.file.display(), self.line)
    }
}

/// A `key = <path` value: the path as written (printed by `config -n`) and the file
/// actually read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub written: String,
    pub resolved: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Value {
    /// Final text: quotes removed, `$references` expanded, or the file's contents.
    pub text: String,
    pub file: Option<FileRef>,
    pub at: Location,
}

/// An IP network from a `local`/`remote` filter name (hostnames are resolved at parse time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    pub addr: IpAddr,
    pub bits: u8,
}

impl Network {
    /// `IP` or `IP/bits` (IPv6 may be bracketed). No DNS.
    pub fn parse(text: &str) -> Option<Network> {
        let (host, bits) = match text.split_once('/') {
            Some((h, b)) => (h, Some(b.parse::<u8>().ok()?)),
            None => (text, None),
        };
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let addr = host.parse::<IpAddr>().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(Network { addr, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.bits),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.bits),
            (IpAddr::V6(net), IpAddr::V4(ip)) => net.to_ipv4_mapped().is_some_and(|n| {
                self.bits >= 96 && prefix_eq(&n.octets(), &ip.octets(), self.bits - 96)
            }),
            (IpAddr::V4(_), IpAddr::V6(ip)) => ip
                .to_ipv4_mapped()
                .is_some_and(|ip| self.contains(IpAddr::V4(ip))),
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits).min(a.len() * 8);
    let full = bits / 8;
    if a[..full] != b[..full] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

#[derive(Debug, Clone)]
pub struct Section {
    pub kind: SectionKind,
    pub name: Option<String>,
    /// Explicit assignments in first-assignment order; a repeated key replaces in place.
    pub settings: Vec<(String, Value)>,
    pub children: Vec<Section>,
    /// For `local`/`remote` filters: the networks the name stands for.
    pub networks: Vec<Network>,
    pub at: Location,
}

impl Section {
    pub fn new(kind: SectionKind, name: Option<String>, at: Location) -> Section {
        Section {
            kind,
            name,
            settings: Vec::new(),
            children: Vec::new(),
            networks: Vec::new(),
            at,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn set(&mut self, key: &str, value: Value) {
        match self.settings.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.settings.push((key.to_string(), value)),
        }
    }

    /// `service imap-login`, `passdb`, …: how the section is written.
    pub fn header(&self) -> String {
        match &self.name {
            Some(name) => format!("{} {}", self.kind.keyword(), name),
            None => self.kind.keyword().to_string(),
        }
    }

    pub fn children_of(&self, kind: SectionKind) -> impl Iterator<Item = &Section> {
        self.children.iter().filter(move |c| c.kind == kind)
    }

    /// Whether the block changes anything. Empty `service`, filter, `plugin` blocks and
    /// empty blocks for built-in listeners do not, and doveconf omits them; an empty
    /// `passdb`/`userdb` (a list entry) or `namespace` (creates one), or an empty block
    /// for a new unix/fifo listener (creates a socket), does. `service` names the
    /// enclosing service for listener blocks.
    pub fn is_significant(&self, service: Option<&str>) -> bool {
        if !self.settings.is_empty() {
            return true;
        }
        let own_service = match self.kind {
            SectionKind::Service => self.name.as_deref(),
            _ => service,
        };
        let explicit = match self.kind {
            SectionKind::Passdb | SectionKind::Userdb | SectionKind::Namespace => true,
            SectionKind::UnixListener | SectionKind::FifoListener => {
                let path = self.name.as_deref().unwrap_or("");
                !defs::DEFAULT_FILE_LISTENERS
                    .iter()
                    .any(|(s, p)| Some(*s) == service && *p == path)
            }
            _ => false,
        };
        explicit || self.children.iter().any(|c| c.is_significant(own_service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str, bits: u8) -> Network {
        Network {
            addr: text.parse().unwrap(),
            bits,
        }
    }

    #[test]
    fn network_matching() {
        assert!(net("192.0.2.0", 24).contains("192.0.2.77".parse().unwrap()));
        assert!(!net("192.0.2.0", 24).contains("192.0.3.1".parse().unwrap()));
        assert!(net("10.0.0.0", 9).contains("10.127.1.1".parse().unwrap()));
        assert!(!net("10.0.0.0", 9).contains("10.128.1.1".parse().unwrap()));
        assert!(net("2001:db8::", 32).contains("2001:db8:1::1".parse().unwrap()));
        assert!(net("0.0.0.0", 0).contains("8.8.8.8".parse().unwrap()));
        assert!(net("192.0.2.1", 32).contains("::ffff:192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn set_replaces_in_place() {
        let at = Location {
            file: Arc::from(Path::new("x")),
            line: 1,
        };
        let mut s = Section::new(SectionKind::Root, None, at.clone());
        let v = |t: &str| Value {
            text: t.into(),
            file: None,
            at: at.clone(),
        };
        s.set("a", v("1"));
        s.set("b", v("2"));
        s.set("a", v("3"));
        assert_eq!(s.settings.len(), 2);
        assert_eq!(s.get("a").map(|v| v.text.as_str()), Some("3"));
        assert_eq!(s.settings[0].0, "a");
    }
}
