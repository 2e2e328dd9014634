//! `service` sections: Dovecot's default listeners (§4.2) merged with the config.

use std::path::PathBuf;

use super::ConfigError;
use super::defs::{self, SectionKind};
use super::getter::Getter;
use super::settings::{InetListener, ServiceSettings, UnixListener};
use super::tree::Section;

fn inet_listener(name: Option<&str>, port: u16, ssl: bool) -> InetListener {
    InetListener {
        name: name.map(str::to_string),
        address: None,
        port,
        ssl,
        haproxy: false,
        reuse_port: false,
    }
}

fn file_listener(path: &str, mode: u32, user: &str) -> UnixListener {
    UnixListener {
        path: PathBuf::from(path),
        mode,
        user: user.to_string(),
        group: String::new(),
    }
}

fn empty_service(name: &str) -> ServiceSettings {
    ServiceSettings {
        name: name.to_string(),
        process_min_avail: 0,
        process_limit: 0,
        client_limit: 0,
        service_count: 0,
        vsz_limit: 0,
        user: String::new(),
        group: String::new(),
        chroot: String::new(),
        executable: String::new(),
        inet_listeners: Vec::new(),
        unix_listeners: Vec::new(),
        fifo_listeners: Vec::new(),
    }
}

/// §4.2: the listeners Dovecot has when the config does not mention them.
fn default_services(internal_user: &str) -> Vec<ServiceSettings> {
    let mut imap = empty_service("imap-login");
    imap.inet_listeners = vec![
        inet_listener(Some("imap"), 143, false),
        inet_listener(Some("imaps"), 993, true),
    ];
    let mut pop3 = empty_service("pop3-login");
    pop3.inet_listeners = vec![
        inet_listener(Some("pop3"), 110, false),
        inet_listener(Some("pop3s"), 995, true),
    ];
    let mut lmtp = empty_service("lmtp");
    lmtp.unix_listeners = vec![file_listener("lmtp", 0o666, "")];
    let mut doveadm = empty_service("doveadm");
    doveadm.unix_listeners = vec![file_listener("doveadm-server", 0o600, "")];
    let mut replicator = empty_service("replicator");
    replicator.unix_listeners = vec![file_listener("replicator-doveadm", 0, internal_user)];
    let mut aggregator = empty_service("aggregator");
    aggregator.fifo_listeners = vec![file_listener("replication-notify-fifo", 0o600, "")];
    aggregator.unix_listeners = vec![file_listener("replication-notify", 0o600, "")];
    vec![imap, pop3, lmtp, doveadm, replicator, aggregator]
}

fn apply_file_listener(listener: &mut UnixListener, section: &Section) -> Result<(), ConfigError> {
    let g = Getter::for_section(section, defs::FILE_LISTENER);
    if g.explicit("mode").is_some() {
        listener.mode = g.octal("mode")?;
    }
    if g.explicit("user").is_some() {
        listener.user = g.string("user")?;
    }
    if g.explicit("group").is_some() {
        listener.group = g.string("group")?;
    }
    Ok(())
}

fn apply_service(service: &mut ServiceSettings, section: &Section) -> Result<(), ConfigError> {
    let g = Getter::for_section(section, defs::SERVICE);
    for (key, slot) in [
        ("process_min_avail", &mut service.process_min_avail),
        ("process_limit", &mut service.process_limit),
        ("client_limit", &mut service.client_limit),
        ("service_count", &mut service.service_count),
    ] {
        if g.explicit(key).is_some() {
            *slot = g.u32(key)?;
        }
    }
    if g.explicit("vsz_limit").is_some() {
        service.vsz_limit = g.size("vsz_limit")?;
    }
    for (key, slot) in [
        ("user", &mut service.user),
        ("group", &mut service.group),
        ("chroot", &mut service.chroot),
        ("executable", &mut service.executable),
    ] {
        if g.explicit(key).is_some() {
            *slot = g.string(key)?;
        }
    }
    let service_name = section.name.as_deref();
    for child in section
        .children
        .iter()
        .filter(|c| c.is_significant(service_name))
    {
        match child.kind {
            SectionKind::InetListener => {
                let existing = child.name.as_ref().and_then(|name| {
                    service
                        .inet_listeners
                        .iter()
                        .position(|l| l.name.as_ref() == Some(name))
                });
                let index = match existing {
                    Some(i) => i,
                    None => {
                        service
                            .inet_listeners
                            .push(inet_listener(child.name.as_deref(), 0, false));
                        service.inet_listeners.len() - 1
                    }
                };
                let listener = &mut service.inet_listeners[index];
                let lg = Getter::for_section(child, defs::INET_LISTENER);
                if lg.explicit("address").is_some() {
                    let list = lg.list("address")?;
                    listener.address = if list.is_empty() { None } else { Some(list) };
                }
                if lg.explicit("port").is_some() {
                    listener.port = lg.port("port")?;
                }
                if lg.explicit("ssl").is_some() {
                    listener.ssl = lg.boolean("ssl")?;
                }
                if lg.explicit("haproxy").is_some() {
                    listener.haproxy = lg.boolean("haproxy")?;
                }
                if lg.explicit("reuse_port").is_some() {
                    listener.reuse_port = lg.boolean("reuse_port")?;
                }
            }
            SectionKind::UnixListener | SectionKind::FifoListener => {
                let list = if child.kind == SectionKind::UnixListener {
                    &mut service.unix_listeners
                } else {
                    &mut service.fifo_listeners
                };
                let path = PathBuf::from(child.name.clone().unwrap_or_default());
                let index = match list.iter().position(|l| l.path == path) {
                    Some(i) => i,
                    None => {
                        list.push(UnixListener {
                            path,
                            mode: 0o600,
                            user: String::new(),
                            group: String::new(),
                        });
                        list.len() - 1
                    }
                };
                apply_file_listener(&mut list[index], child)?;
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn services(
    root_sections: &[&Section],
    base_dir: &std::path::Path,
    internal_user: &str,
    protocol_words: &[&str],
) -> Result<Vec<ServiceSettings>, ConfigError> {
    let mut services = default_services(internal_user);
    // Obsolete `protocols = imaps` without `imap` meant: implicit TLS only, so the
    // plaintext default listener goes (a config can still add it back explicitly).
    for (obsolete, plain, service) in [
        ("imaps", "imap", "imap-login"),
        ("pop3s", "pop3", "pop3-login"),
    ] {
        if protocol_words.contains(&obsolete)
            && !protocol_words.contains(&plain)
            && let Some(s) = services.iter_mut().find(|s| s.name == service)
        {
            s.inet_listeners
                .retain(|l| l.name.as_deref() != Some(plain));
        }
    }
    for section in root_sections
        .iter()
        .filter(|s| s.kind == SectionKind::Service && s.is_significant(None))
    {
        let name = section.name.clone().unwrap_or_default();
        let index = match services.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                services.push(empty_service(&name));
                services.len() - 1
            }
        };
        apply_service(&mut services[index], section)?;
    }
    for service in &mut services {
        service.inet_listeners.retain(|l| l.port != 0);
        for listener in service
            .unix_listeners
            .iter_mut()
            .chain(service.fifo_listeners.iter_mut())
        {
            if listener.path.is_relative() {
                listener.path = base_dir.join(&listener.path);
            }
        }
    }
    Ok(services)
}
