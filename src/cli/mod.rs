//! Command line: `tern [-c FILE] serve | config [-n] [-P] | admin …`.

pub mod admin_storage;
pub mod doctor;
pub mod embedded;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, RenderOptions};
use crate::logging::{self, LogRouter, LogSink};

const DEFAULT_CONFIG: &str = "/etc/tern/tern.conf";

#[derive(Parser, Debug)]
#[command(
    name = "tern",
    version,
    about = "Thread-per-core IMAP / POP3 / LMTP mail server"
)]
struct Cli {
    /// Configuration file (Dovecot 2.3 syntax). Default: /etc/tern/tern.conf,
    /// or the embedded default in ./tern-data when that does not exist.
    #[arg(short = 'c', long = "config", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (the default command).
    Serve,
    /// Print the settings, like doveconf.
    Config {
        /// Only settings that differ from the defaults (doveconf -n).
        #[arg(short = 'n')]
        non_default: bool,
        /// Show passwords and keys instead of hiding them.
        #[arg(short = 'P')]
        show_secrets: bool,
    },
    /// Inspect this host against the configuration and suggest shard placement.
    Doctor,
    /// Administration commands (like doveadm).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Hash a password for a passwd-file, like `doveadm pw`.
    Pw {
        /// Scheme (Dovecot names: SHA512-CRYPT, BLF-CRYPT, ARGON2ID, SSHA512, …).
        #[arg(short = 's', default_value = "CRYPT")]
        scheme: String,
        /// The password; asked on standard input when omitted.
        #[arg(short = 'p')]
        password: Option<String>,
    },
    /// Rebuild a user's mailbox indexes from the mail files (all mailboxes
    /// when none is named), like `doveadm force-resync`.
    ForceResync {
        #[arg(short = 'u')]
        user: String,
        mailbox: Option<String>,
        #[command(flatten)]
        overrides: StorageArgs,
    },
    /// Mailbox commands.
    #[command(subcommand)]
    Mailbox(MailboxCommand),
}

#[derive(Subcommand, Debug)]
enum MailboxCommand {
    /// Print a mailbox's status (messages, unseen, uidnext, uidvalidity, …).
    Status {
        #[arg(short = 'u')]
        user: String,
        mailbox: String,
        #[command(flatten)]
        overrides: StorageArgs,
    },
}

/// Where a user's mail is, when the config's userdb cannot say (PAM/NSS
/// users, or a store copied elsewhere).
#[derive(clap::Args, Debug)]
struct StorageArgs {
    /// The user's home directory.
    #[arg(long)]
    home: Option<String>,
    /// A mail_location, e.g. `sdbox:~/mail` or `maildir:~/Maildir`.
    #[arg(long)]
    location: Option<String>,
}

impl StorageArgs {
    fn overrides(self) -> admin_storage::StorageOverrides {
        admin_storage::StorageOverrides {
            home: self.home,
            location: self.location,
        }
    }
}

fn print_result(r: Result<String, String>) -> ExitCode {
    match r {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tern: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Admin commands that work on mail storage and so need the configuration.
fn admin_storage_command(cfg: &config::Config, cmd: AdminCommand) -> ExitCode {
    match cmd {
        AdminCommand::ForceResync {
            user,
            mailbox,
            overrides,
        } => print_result(admin_storage::force_resync_with(
            cfg,
            &user,
            mailbox.as_deref(),
            &overrides.overrides(),
        )),
        AdminCommand::Mailbox(MailboxCommand::Status {
            user,
            mailbox,
            overrides,
        }) => print_result(admin_storage::mailbox_status_with(
            cfg,
            &user,
            &mailbox,
            &overrides.overrides(),
        )),
        AdminCommand::Pw { .. } => admin(cmd),
    }
}

fn admin(cmd: AdminCommand) -> ExitCode {
    match cmd {
        AdminCommand::ForceResync { .. } | AdminCommand::Mailbox(_) => {
            eprintln!("tern: this admin command needs the configuration");
            ExitCode::FAILURE
        }
        AdminCommand::Pw { scheme, password } => {
            let password = match password {
                Some(p) => p,
                None => {
                    eprint!("Enter new password: ");
                    let mut line = String::new();
                    if std::io::stdin().read_line(&mut line).is_err() {
                        eprintln!("tern: cannot read the password");
                        return ExitCode::FAILURE;
                    }
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            match crate::auth::scheme::admin_pw(&scheme, password.as_bytes()) {
                Ok(h) => {
                    println!("{h}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tern: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Where the configuration comes from.
enum Source {
    File(PathBuf),
    Embedded(PathBuf, String),
}

fn pick_source(explicit: Option<PathBuf>) -> Result<Source, String> {
    if let Some(p) = explicit {
        return Ok(Source::File(p));
    }
    if Path::new(DEFAULT_CONFIG).exists() {
        return Ok(Source::File(PathBuf::from(DEFAULT_CONFIG)));
    }
    let dir = embedded::data_dir();
    let (conf, pw) = embedded::ensure(&dir).map_err(|e| {
        format!(
            "cannot create the embedded default in {}: {e}",
            dir.display()
        )
    })?;
    Ok(Source::Embedded(conf, pw))
}

/// Installs the log subscriber, writing directly until the caller starts
/// the queue (see `crate::logging`). Destinations as in Dovecot
/// (`log_path`, `info_log_path`, `debug_log_path`, `syslog_facility`),
/// except that the default `log_path = syslog`, when the config does not
/// set it, is standard error (the journal, under systemd).
fn init_logging(cfg: &config::Config) -> Option<LogRouter> {
    let s = cfg.settings();
    let log_path = if cfg.is_set("log_path") {
        s.log_path.as_str()
    } else {
        "/dev/stderr"
    };
    let targets = logging::LogTargets::from_settings(
        log_path,
        &s.info_log_path,
        &s.debug_log_path,
        &cfg.value_of("syslog_facility").unwrap_or_default(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_target(false);
    let router = match LogRouter::open(&targets) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tern: {e}; logging to stderr");
            match logging::stderr_file() {
                Ok(f) => LogRouter::single(LogSink::new(f)),
                Err(e) => {
                    eprintln!("tern: {e}; logging synchronously");
                    let _ = builder.with_writer(std::io::stderr).try_init();
                    return None;
                }
            }
        }
    };
    let all_stderr = [&targets.error, &targets.info, &targets.debug]
        .iter()
        .all(|t| **t == logging::Target::Stderr);
    let ansi = all_stderr && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = builder
        .with_ansi(ansi)
        .with_writer(router.clone())
        .try_init();
    logging::install(router.clone());
    Some(router)
}

/// `RUST_LOG`, or `info`. rustls logs a WARN per connection for things a
/// client does (an IP address as SNI, a bad alert): that is the client's
/// business, not the operator's, so rustls is held to errors unless
/// `RUST_LOG` names it (`RUST_LOG=info,rustls=debug`).
fn log_filter() -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    let from_env = std::env::var("RUST_LOG").unwrap_or_default();
    let mut filter = EnvFilter::try_new(if from_env.trim().is_empty() {
        "info"
    } else {
        from_env.as_str()
    })
    .unwrap_or_else(|_| EnvFilter::new("info"));
    if !from_env.contains("rustls")
        && let Ok(d) = "rustls=error".parse()
    {
        filter = filter.add_directive(d);
    }
    filter
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Admin(cmd @ AdminCommand::Pw { .. })) = cli.command {
        return admin(cmd);
    }
    let source = match pick_source(cli.config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tern: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (path, demo_password) = match &source {
        Source::File(p) => (p.clone(), None),
        Source::Embedded(p, pw) => (p.clone(), Some(pw.clone())),
    };
    let cfg = match config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tern: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Config {
            non_default,
            show_secrets,
        } => {
            for w in cfg.warnings() {
                eprintln!("tern: warning: {w}");
            }
            print!(
                "{}",
                cfg.render(RenderOptions {
                    non_default_only: non_default,
                    show_secrets,
                })
            );
            ExitCode::SUCCESS
        }
        Command::Admin(cmd) => admin_storage_command(&cfg, cmd),
        Command::Doctor => {
            let s = cfg.settings();
            let shards = match s.shards {
                config::ShardCount::Auto => None,
                config::ShardCount::Fixed(n) => Some(n),
            };
            let findings = doctor::report(shards, s.shard_cpus.as_deref(), s.io_ring_depth);
            doctor::print(&findings);
            ExitCode::SUCCESS
        }
        Command::Serve => {
            let log = init_logging(&cfg);
            for w in cfg.warnings() {
                tracing::warn!("config: {w}");
            }
            let plan = match crate::server::from_config::plan(&cfg, &path) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("tern: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let r = crate::server::run(plan, |plan| {
                // Called after the auth helper was forked (that needs a
                // single-threaded process, and the child has no writer
                // thread) and before any connection is accepted.
                if let Some(log) = &log
                    && let Err(e) = log.start_queue()
                {
                    tracing::warn!("log: {e}; logging synchronously");
                }
                table::print(plan, &path, demo_password.as_deref());
            });
            if let Some(log) = &log {
                log.stop_queue();
            }
            match r {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("tern: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
