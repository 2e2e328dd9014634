//! Filter matching (§4.1): which `protocol`/`local`/`remote`/`local_name` blocks apply
//! to a connection, and the merged view of values they produce, least specific first.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::defs::SectionKind;
use super::tree::{Section, Value};

/// Which connection a settings view is for. Filters that need a field that is `None`
/// do not match.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilterContext<'a> {
    pub protocol: Option<&'a str>,
    pub local_ip: Option<IpAddr>,
    pub remote_ip: Option<IpAddr>,
    /// TLS SNI name.
    pub local_name: Option<&'a str>,
}

/// How specific a filter chain is; larger wins (§4.1: local_name, local, remote, protocol).
pub(crate) type Specificity = (u8, u16, u16, u8);

/// The specificity after entering `child` from a chain with specificity `spec`.
pub(crate) fn extend_specificity(spec: Specificity, child: &Section) -> Specificity {
    let mut s = spec;
    match child.kind {
        SectionKind::LocalName => s.0 = 1,
        SectionKind::Local => s.1 = s.1.max(network_bits(child)),
        SectionKind::Remote => s.2 = s.2.max(network_bits(child)),
        _ => s.3 = 1,
    }
    s
}

fn filter_matches(section: &Section, ctx: &FilterContext<'_>) -> bool {
    let name = section.name.as_deref().unwrap_or("");
    // Login services match their protocol's filter (`imap-login` sees `protocol imap`).
    let protocol = ctx.protocol.map(|p| p.strip_suffix("-login").unwrap_or(p));
    match section.kind {
        SectionKind::Protocol => match (name.strip_prefix('!'), protocol) {
            (Some(excluded), Some(p)) => p != excluded,
            (None, Some(p)) => p == name,
            (_, None) => false,
        },
        SectionKind::Local => ctx
            .local_ip
            .is_some_and(|ip| section.networks.iter().any(|n| n.contains(ip))),
        SectionKind::Remote => ctx
            .remote_ip
            .is_some_and(|ip| section.networks.iter().any(|n| n.contains(ip))),
        SectionKind::LocalName => ctx.local_name.is_some_and(|sni| {
            name.split_whitespace().any(|n| {
                n.eq_ignore_ascii_case(sni)
                    || n.strip_prefix("*.").is_some_and(|suffix| {
                        sni.len() > suffix.len() + 1
                            && sni[sni.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                            && sni.as_bytes()[sni.len() - suffix.len() - 1] == b'.'
                    })
            })
        }),
        _ => false,
    }
}

fn network_bits(section: &Section) -> u16 {
    section
        .networks
        .iter()
        .map(|n| u16::from(n.bits) + 1)
        .max()
        .unwrap_or(1)
}

fn collect_filters<'a>(
    node: &'a Section,
    ctx: &FilterContext<'_>,
    spec: Specificity,
    out: &mut Vec<(Specificity, &'a Section)>,
) {
    for child in node.children.iter().filter(|c| c.kind.is_filter()) {
        if !filter_matches(child, ctx) {
            continue;
        }
        let s = extend_specificity(spec, child);
        out.push((s, child));
        collect_filters(child, ctx, s, out);
    }
}

/// The global settings overlaid with every matching filter, least specific first.
pub(crate) struct View<'a> {
    pub(super) values: BTreeMap<&'a str, &'a Value>,
    /// Non-filter sections: the root's, then those inside matching filters.
    pub(super) sections: Vec<&'a Section>,
    /// Global value of `ssl`, which filters may not turn on when it is `no`.
    pub(super) global_ssl_off: bool,
}

impl<'a> View<'a> {
    pub(crate) fn new(root: &'a Section, ctx: &FilterContext<'_>) -> View<'a> {
        let mut values: BTreeMap<&str, &Value> =
            root.settings.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let global_ssl_off = values.get("ssl").is_some_and(|v| v.text == "no");
        let mut sections: Vec<&Section> = root
            .children
            .iter()
            .filter(|c| !c.kind.is_filter())
            .collect();
        let mut filters = Vec::new();
        collect_filters(root, ctx, (0, 0, 0, 0), &mut filters);
        filters.sort_by_key(|(spec, _)| *spec);
        for (_, filter) in filters {
            for (key, value) in &filter.settings {
                values.insert(key.as_str(), value);
            }
            sections.extend(filter.children.iter().filter(|c| !c.kind.is_filter()));
        }
        View {
            values,
            sections,
            global_ssl_off,
        }
    }
}
