//! Dovecot 2.3 configuration language: parser, settings registry, typed settings,
//! `%` variable expansion and `config -n` rendering.
//!
//! ```text
//! let config = tern::config::load(Path::new("/etc/dovecot/dovecot.conf"))?;
//! for w in config.warnings() { log once }
//! let imap = config.for_protocol("imap");   // global + `protocol imap { }`
//! ```

mod build;
mod defs;
mod getter;
mod lexer;
mod md5;
mod parser;
mod render;
mod services;
mod settings;
mod tree;
mod values;
pub mod vars;
mod view;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use parser::LoadOptions;
pub use settings::{
    AuthDbResult, AuthDbSettings, AuthDbSkip, FileValue, FsyncMode, ImapWorkaround, InetListener,
    LmtpWorkaround, MailboxAuto, MailboxSettings, NamespaceList, NamespaceSettings, NamespaceType,
    PluginSettings, Pop3Workaround, Protocol, Secret, ServiceSettings, Settings, ShardCount,
    SslMode, TlsVersion, UnixListener,
};
pub use tree::Network;
pub use values::{ValueError, format_size, format_time_ms, parse_size, parse_time_ms};
pub use vars::{VarError, VarName, VarTable, expand};
pub use view::FilterContext;

use tree::Section;
use view::View;

/// A configuration that could not be loaded. Display gives Dovecot's wording:
/// `Error in configuration file <path> line <n>: <reason>`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("Error in configuration file {} line {line}: {reason}", .file.display())]
    At {
        file: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("Error in configuration file {}: {reason}", .file.display())]
    File { file: PathBuf, reason: String },
    #[error("Invalid configuration: {0}")]
    Invalid(String),
}

/// What `Config::render` prints.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// `-n`: only settings that differ from the defaults (filters and sections print
    /// what was set explicitly). Otherwise `-a`: every top-level setting.
    pub non_default_only: bool,
    /// `-P`: print passwords and keys instead of `# hidden, use -P to show it`.
    pub show_secrets: bool,
}

/// A loaded configuration: the parsed tree plus the validated global settings.
#[derive(Clone)]
pub struct Config {
    source: PathBuf,
    root: Section,
    warnings: Vec<String>,
    global: Settings,
    /// `for_protocol` results, built (and so validated) at load time.
    per_protocol: std::collections::BTreeMap<String, Settings>,
}

/// Reads `path` and everything it includes.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, &LoadOptions::default())
}

pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Config, ConfigError> {
    let parsed = parser::parse_file(path, options)?;
    Config::from_parsed(parsed, path)
}

/// Parses `text`; `origin` names it in messages and gives the directory that relative
/// `!include` and `<file` paths start from.
pub fn parse_str(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    parse_str_with(text, origin, &LoadOptions::default())
}

pub fn parse_str_with(
    text: &str,
    origin: &Path,
    options: &LoadOptions,
) -> Result<Config, ConfigError> {
    let parsed = parser::parse_text(text, origin, options)?;
    Config::from_parsed(parsed, origin)
}

fn collect_filter_contexts(
    node: &Section,
    protocols: &mut BTreeSet<String>,
    addrs: &mut Vec<std::net::IpAddr>,
    local_names: &mut BTreeSet<String>,
) {
    for child in node.children.iter().filter(|c| c.kind.is_filter()) {
        if let Some(name) = &child.name
            && child.kind == defs::SectionKind::Protocol
        {
            protocols.insert(name.trim_start_matches('!').to_string());
        }
        if child.kind == defs::SectionKind::LocalName
            && let Some(name) = &child.name
        {
            // A wildcard `*.example.org` is exercised through a sample name under it.
            local_names.extend(name.split_whitespace().map(|n| n.replace("*.", "sample.")));
        }
        addrs.extend(child.networks.iter().map(|n| n.addr));
        collect_filter_contexts(child, protocols, addrs, local_names);
    }
}

/// The tree holds raw values, secrets included, so Debug shows only the typed
/// (masked) settings.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("source", &self.source)
            .field("warnings", &self.warnings)
            .field("settings", &self.global)
            .finish_non_exhaustive()
    }
}

impl Config {
    fn from_parsed(parsed: parser::Parsed, source: &Path) -> Result<Config, ConfigError> {
        let root = parsed.root;
        let mut warnings = parsed.warnings;
        let global = build::build(&View::new(&root, &FilterContext::default()), &mut warnings)?;
        // Build every view a filter can produce now, so that later views cannot fail.
        let mut protocols: BTreeSet<String> = ["imap", "pop3", "lmtp", "doveadm", "lda"]
            .into_iter()
            .map(String::from)
            .collect();
        let mut addrs = Vec::new();
        let mut local_names = BTreeSet::new();
        collect_filter_contexts(&root, &mut protocols, &mut addrs, &mut local_names);
        protocols.insert(String::from("-none-"));
        let mut per_protocol = std::collections::BTreeMap::new();
        for protocol in &protocols {
            let ctx = FilterContext {
                protocol: Some(protocol),
                ..FilterContext::default()
            };
            per_protocol.insert(
                protocol.clone(),
                build::build(&View::new(&root, &ctx), &mut warnings)?,
            );
            let names = local_names.iter().map(|n| Some(n.as_str())).chain([None]);
            for name in names {
                for addr in addrs.iter().map(|a| Some(*a)).chain([None]) {
                    let ctx = FilterContext {
                        protocol: Some(protocol),
                        local_ip: addr,
                        remote_ip: addr,
                        local_name: name,
                    };
                    build::build(&View::new(&root, &ctx), &mut warnings)?;
                }
            }
        }
        let mut seen = BTreeSet::new();
        warnings.retain(|w| seen.insert(w.clone()));
        Ok(Config {
            source: source.to_path_buf(),
            root,
            warnings,
            global,
            per_protocol,
        })
    }

    /// Settings outside any filter.
    pub fn settings(&self) -> &Settings {
        &self.global
    }

    /// Global settings overlaid with the matching `protocol` filters.
    pub fn for_protocol(&self, proto: &str) -> Settings {
        if let Some(settings) = self.per_protocol.get(proto) {
            return settings.clone();
        }
        self.for_connection(&FilterContext {
            protocol: Some(proto),
            ..FilterContext::default()
        })
    }

    /// Settings for a connection: protocol, local/remote addresses and SNI name, with
    /// §4.1 precedence (local_name, then local, then remote, then protocol, then global).
    pub fn for_connection(&self, ctx: &FilterContext<'_>) -> Settings {
        let mut scratch = Vec::new();
        // Every combination was validated in from_parsed; fall back to the global view
        // rather than panic if that ever proves wrong.
        build::build(&View::new(&self.root, ctx), &mut scratch)
            .unwrap_or_else(|_| self.global.clone())
    }

    /// One line each, to be logged once at start-up.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The file (or origin) the configuration came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// `doveconf -n` (non_default_only), `-a`, and `-P` (show_secrets) output.
    pub fn render(&self, opts: RenderOptions) -> String {
        let header = format!(
            "tern {}: {}",
            env!("CARGO_PKG_VERSION"),
            self.source.display()
        );
        render::render(&self.root, &header, opts)
    }
}
