//! Dovecot 2.3 configuration language: parser, settings registry, typed settings,
//! `%` variable expansion and `config -n` rendering.
//! The spec is shared/docs/config-language.md; output was checked against the real
//! doveconf 2.3.19.1 (see `tests/doveconf.rs`).
//!
//! ```no_run
//! use std::path::Path;
//! # fn main() -> Result<(), tern::config::ConfigError> {
//! let config = tern::config::load(Path::new("/etc/dovecot/dovecot.conf"))?;
//! for warning in config.warnings() {
//!     eprintln!("{warning}"); // log each once at start-up
//! }
//! let imap = config.for_protocol("imap"); // global + matching `protocol imap { }`
//! let greeting = &imap.login_greeting;
//! # let _ = greeting;
//! # Ok(()) }
//! ```
//!
//! Layout: `lexer` (comments, quotes, tokens) → `parser` (lines, sections, includes,
//! `$refs`, validation against `defs`) → `tree` (explicit values with locations) →
//! `view` (filter matching) + `getter`/`build`/`services` (typed `Settings`) and
//! `render` (`doveconf -n`). `vars` expands `%` templates at use time.
//!
//! Loading reads files with std::fs: call it at start-up on the main thread, never on a
//! shard. `Settings` is plain data to clone into shards.

mod build;
mod defs;
mod getter;
mod lexer;
mod parser;
mod render;
mod services;
mod settings;
mod tree;
mod values;
pub mod vars;
mod view;

/// Module tests; `tests::load_red_hat()` is also used by the server's tests.
#[cfg(test)]
pub(crate) mod tests;

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

/// A context that matches one filter chain (`local X { protocol imap { } }`).
#[derive(Debug, Clone, Default)]
struct ChainContext {
    protocol: Option<String>,
    local_ip: Option<std::net::IpAddr>,
    remote_ip: Option<std::net::IpAddr>,
    local_name: Option<String>,
}

impl ChainContext {
    fn as_filter(&self) -> FilterContext<'_> {
        FilterContext {
            protocol: Some(self.protocol.as_deref().unwrap_or("-none-")),
            local_ip: self.local_ip,
            remote_ip: self.remote_ip,
            local_name: self.local_name.as_deref(),
        }
    }
}

fn collect_filter_chains(node: &Section, outer: &ChainContext, out: &mut Vec<ChainContext>) {
    for child in node.children.iter().filter(|c| c.kind.is_filter()) {
        let mut ctx = outer.clone();
        let name = child.name.clone().unwrap_or_default();
        let first_addr = child.networks.first().map(|n| n.addr);
        match child.kind {
            // `!imap` is matched by any other name; the view for it is the "-none-" one.
            defs::SectionKind::Protocol => {
                ctx.protocol = Some(name.trim_start_matches('!').to_string())
            }
            defs::SectionKind::Local => ctx.local_ip = first_addr,
            defs::SectionKind::Remote => ctx.remote_ip = first_addr,
            _ => {
                let first = name.split_whitespace().next().unwrap_or_default();
                ctx.local_name = Some(first.replace("*.", "sample."));
            }
        }
        out.push(ctx.clone());
        collect_filter_chains(child, &ctx, out);
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
        // Build the protocol views now: they are cached for for_protocol().
        let mut protocols: BTreeSet<String> = ["imap", "pop3", "lmtp", "doveadm", "lda"]
            .into_iter()
            .map(String::from)
            .collect();
        let mut chains = Vec::new();
        collect_filter_chains(&root, &ChainContext::default(), &mut chains);
        protocols.extend(chains.iter().filter_map(|c| c.protocol.clone()));
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
        }
        // One view per address/SNI filter chain: values were type-checked by the
        // parser, so this only surfaces warnings (e.g. ssl turned on under ssl = no).
        for chain in chains
            .iter()
            .filter(|c| c.local_ip.is_some() || c.remote_ip.is_some() || c.local_name.is_some())
        {
            build::build(&View::new(&root, &chain.as_filter()), &mut warnings)?;
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

    /// The effective top-level value of `key` as `config -n` would print it (normalised,
    /// default if unset), like `doveconf KEY`; `None` for unknown keys. Secrets are
    /// returned in clear: the caller decides whether to show them.
    pub fn value_of(&self, key: &str) -> Option<String> {
        let def = defs::global(key)?;
        let text = self.root.get(key).map_or(def.default, |v| v.text.as_str());
        Some(defs::normalize(def.ty, text).unwrap_or_else(|_| text.to_string()))
    }

    /// True when the configuration sets `key` at the top level (not just
    /// the default).
    pub fn is_set(&self, key: &str) -> bool {
        self.root.get(key).is_some()
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
