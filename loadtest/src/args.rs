//! Command line: parsed by clap, then checked into a [`Settings`] that the
//! runner trusts (loopback rule, ranges, defaults per scenario).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::mix::{MixOp, Weights};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ArgError {
    #[error("bad duration {0:?} (use e.g. 500ms, 10s, 2m)")]
    Duration(String),
    #[error("bad user range {0:?} (use e.g. 1-1000)")]
    UserRange(String),
    #[error("bad rate {0:?} (use e.g. 500 or 500/s)")]
    Rate(String),
    #[error("bad CPU list {0:?} (use e.g. 1,3 or 2-5)")]
    Cpus(String),
    #[error("bad weights {0:?}: {1}")]
    Weights(String, String),
    #[error("the user pattern {0:?} has more than one %d")]
    UserPattern(String),
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, String),
    #[error("{0} is not a loopback address; pass --allow-remote to load a remote server")]
    Remote(IpAddr),
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// connect, TLS, authenticate, logout: sessions/s (IMAP)
    Login,
    /// a realistic IMAP client: weighted SELECT/FETCH/STORE/SEARCH/APPEND/EXPUNGE/IDLE
    ImapMix,
    /// POP3 session: login, STAT, UIDL, RETR all, QUIT
    Pop3,
    /// LMTP deliveries with N recipients per message
    Lmtp,
    /// N IMAP connections in IDLE; deliveries over LMTP; wake-up latency
    IdleHold,
    /// random LOGIN/SELECT/FETCH/STORE/EXPUNGE/APPEND/COPY/LOGOUT and abrupt
    /// disconnects on shared mailboxes, every response checked against a model
    Stress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsMode {
    None,
    Implicit,
    Starttls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMech {
    /// IMAP LOGIN / POP3 USER+PASS
    Login,
    /// AUTHENTICATE PLAIN / POP3 AUTH PLAIN
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    Desktop,
    Mobile,
}

#[derive(Parser, Debug, Clone)]
#[command(
    name = "tern-loadtest",
    version,
    about = "Load generator for IMAP, POP3 and LMTP servers (tern, Dovecot, any)"
)]
pub struct Cli {
    #[arg(value_enum)]
    pub scenario: Scenario,
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// default: 143/993 (IMAP), 110/995 (POP3), 24 (LMTP)
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(long, value_enum, default_value = "none")]
    pub tls: TlsMode,
    /// PEM file of CA certificates that sign the server's certificate
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// accept any server certificate
    #[arg(long)]
    pub insecure: bool,
    /// TLS server name (SNI); default: --host, or "localhost" for an IP
    #[arg(long)]
    pub sni: Option<String>,
    /// turn off TLS session resumption (every handshake is a full one)
    #[arg(long)]
    pub no_resume: bool,
    /// user name: a pattern with one %d (filled from --users), or a fixed
    /// name every connection logs in as (e.g. tern's embedded `demo`)
    #[arg(long, default_value = "testuser%d")]
    pub user: String,
    #[arg(long, default_value = "1-100")]
    pub users: String,
    #[arg(long, default_value = "pass")]
    pub password: String,
    #[arg(long, value_enum, default_value = "login")]
    pub auth: AuthMech,
    /// allow a target outside 127.0.0.0/8 and ::1
    #[arg(long)]
    pub allow_remote: bool,
    /// connect from 127.0.0.2-254 in turn from the start (otherwise only
    /// once the kernel runs out of source ports); IPv4 loopback targets only
    #[arg(long)]
    pub spread_sources: bool,
    /// concurrent connections (closed loop), or the connection pool (open
    /// loop); default 10 (stress: 50)
    #[arg(long)]
    pub clients: Option<usize>,
    /// open loop: operations per second over all threads (e.g. 500 or 500/s)
    #[arg(long)]
    pub rate: Option<String>,
    /// default 1s (stress: 0s, every response is checked)
    #[arg(long)]
    pub warmup: Option<String>,
    #[arg(long, default_value = "10s")]
    pub duration: String,
    /// stop after this many measured operations
    #[arg(long)]
    pub max_ops: Option<u64>,
    /// generator threads (one executor each); default: online CPUs
    #[arg(long)]
    pub threads: Option<usize>,
    /// pin generator threads to these CPUs (e.g. 1,3); default: unpinned
    #[arg(long)]
    pub cpus: Option<String>,
    /// per-operation timeout
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// write the results as JSON here
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// no live progress line
    #[arg(long)]
    pub quiet: bool,
    /// imap-mix: weight preset
    #[arg(long, value_enum, default_value = "desktop")]
    pub profile: Profile,
    /// imap-mix: weight overrides, e.g. fetch-body=30,idle=0
    #[arg(long)]
    pub weights: Option<String>,
    #[arg(long, default_value = "INBOX")]
    pub mailbox: String,
    /// size of generated messages (APPEND, LMTP)
    #[arg(long, default_value_t = 4096)]
    pub msg_size: usize,
    /// imap-mix: how long one IDLE lasts
    #[arg(long, default_value = "1s")]
    pub idle_time: String,
    /// lmtp: recipients per message
    #[arg(long, default_value_t = 1)]
    pub rcpts: usize,
    /// lmtp / idle-hold: domain appended to recipients (user@domain)
    #[arg(long)]
    pub rcpt_domain: Option<String>,
    /// idle-hold: LMTP port used for deliveries
    #[arg(long, default_value_t = 24)]
    pub lmtp_port: u16,
    /// idle-hold: deliveries per second (default 20)
    #[arg(long)]
    pub delivery_rate: Option<f64>,
    /// idle-hold: server pid whose RSS (with its children) is sampled
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// stress: seed of the clients' random choices (same seed, same choices)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Checked settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub scenario: Scenario,
    pub target: SocketAddr,
    pub lmtp_target: SocketAddr,
    pub tls: TlsMode,
    pub ca: Option<PathBuf>,
    pub insecure: bool,
    pub sni: String,
    pub resume: bool,
    pub user_pattern: String,
    pub users: (u32, u32),
    pub password: String,
    pub auth: AuthMech,
    pub clients: usize,
    pub rate: Option<f64>,
    pub spread_sources: bool,
    pub warmup: Duration,
    pub duration: Duration,
    pub max_ops: Option<u64>,
    pub threads: usize,
    pub cpus: Option<Vec<usize>>,
    pub timeout: Duration,
    pub json: Option<PathBuf>,
    pub quiet: bool,
    pub weights: Weights,
    pub mailbox: String,
    pub msg_size: usize,
    pub idle_time: Duration,
    pub rcpts: usize,
    pub rcpt_domain: Option<String>,
    pub delivery_rate: f64,
    pub server_pid: Option<u32>,
    pub seed: u64,
}

impl Settings {
    /// The user name for index `i` (wraps around the range).
    pub fn user(&self, i: u64) -> String {
        let (lo, hi) = self.users;
        let n = u64::from(hi - lo) + 1;
        let id = u64::from(lo) + i % n;
        self.user_pattern.replacen("%d", &id.to_string(), 1)
    }

    pub fn user_count(&self) -> u64 {
        u64::from(self.users.1 - self.users.0) + 1
    }

    pub fn recipient(&self, i: u64) -> String {
        match &self.rcpt_domain {
            Some(d) => format!("{}@{d}", self.user(i)),
            None => self.user(i),
        }
    }
}

pub fn parse_duration(s: &str) -> Result<Duration, ArgError> {
    let err = || ArgError::Duration(s.to_string());
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().map_err(|_| err())?;
    let secs = match unit {
        "" | "s" => v,
        "ms" => v / 1000.0,
        "us" => v / 1_000_000.0,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(err()),
    };
    if !secs.is_finite() || !(0.0..=86_400.0 * 7.0).contains(&secs) {
        return Err(err());
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn parse_user_range(s: &str) -> Result<(u32, u32), ArgError> {
    let err = || ArgError::UserRange(s.to_string());
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let lo: u32 = a.trim().parse().map_err(|_| err())?;
    let hi: u32 = b.trim().parse().map_err(|_| err())?;
    if lo > hi {
        return Err(err());
    }
    Ok((lo, hi))
}

pub fn parse_rate(s: &str) -> Result<f64, ArgError> {
    let t = s.trim();
    let t = t.strip_suffix("/s").unwrap_or(t);
    match t.parse::<f64>() {
        Ok(r) if r.is_finite() && (0.001..=10_000_000.0).contains(&r) => Ok(r),
        _ => Err(ArgError::Rate(s.to_string())),
    }
}

pub fn parse_cpus(s: &str) -> Result<Vec<usize>, ArgError> {
    let err = || ArgError::Cpus(s.to_string());
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let lo: usize = a.parse().map_err(|_| err())?;
        let hi: usize = b.parse().map_err(|_| err())?;
        if lo > hi || hi >= 4096 {
            return Err(err());
        }
        out.extend(lo..=hi);
    }
    Ok(out)
}

pub fn parse_weights(base: Weights, s: &str) -> Result<Weights, ArgError> {
    let mut w = base;
    for item in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, val) = item
            .split_once('=')
            .ok_or_else(|| ArgError::Weights(s.into(), format!("{item:?} lacks '='")))?;
        let op = MixOp::from_name(name.trim())
            .ok_or_else(|| ArgError::Weights(s.into(), format!("unknown operation {name:?}")))?;
        let v: u32 = val
            .trim()
            .parse()
            .map_err(|_| ArgError::Weights(s.into(), format!("bad weight {val:?}")))?;
        w.set(op, v.min(1_000_000));
    }
    if w.total() == 0 {
        return Err(ArgError::Weights(s.into(), "all weights are zero".into()));
    }
    Ok(w)
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, ArgError> {
    // blocking name lookup: once, before any executor starts
    (host, port)
        .to_socket_addrs()
        .map_err(|e| ArgError::Resolve(host.into(), e.to_string()))?
        .next()
        .ok_or_else(|| ArgError::Resolve(host.into(), "no address".into()))
}

fn default_port(scenario: Scenario, tls: TlsMode) -> u16 {
    let implicit = tls == TlsMode::Implicit;
    match scenario {
        Scenario::Login | Scenario::ImapMix | Scenario::IdleHold | Scenario::Stress => {
            if implicit {
                993
            } else {
                143
            }
        }
        Scenario::Pop3 => {
            if implicit {
                995
            } else {
                110
            }
        }
        Scenario::Lmtp => 24,
    }
}

impl Cli {
    pub fn into_settings(self) -> Result<Settings, ArgError> {
        let users = match self.user.matches("%d").count() {
            0 => (1, 1),
            1 => parse_user_range(&self.users)?,
            _ => return Err(ArgError::UserPattern(self.user)),
        };
        let port = self
            .port
            .unwrap_or_else(|| default_port(self.scenario, self.tls));
        let target = resolve(&self.host, port)?;
        if !self.allow_remote && !target.ip().is_loopback() {
            return Err(ArgError::Remote(target.ip()));
        }
        let lmtp_target = SocketAddr::new(target.ip(), self.lmtp_port);
        let stress = self.scenario == Scenario::Stress;
        let clients = self.clients.unwrap_or(if stress { 50 } else { 10 });
        let warmup = self
            .warmup
            .as_deref()
            .unwrap_or(if stress { "0s" } else { "1s" });
        if clients == 0 || clients > 1_000_000 {
            return Err(ArgError::Invalid("--clients must be 1..=1000000".into()));
        }
        if self.rcpts == 0 || self.rcpts > 1000 {
            return Err(ArgError::Invalid("--rcpts must be 1..=1000".into()));
        }
        if self.msg_size > 64 << 20 {
            return Err(ArgError::Invalid("--msg-size is capped at 64 MiB".into()));
        }
        if self.tls != TlsMode::None && self.ca.is_none() && !self.insecure {
            return Err(ArgError::Invalid(
                "TLS needs --ca FILE or --insecure".into(),
            ));
        }
        let online = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpus = self.cpus.as_deref().map(parse_cpus).transpose()?;
        let threads = self
            .threads
            .or(cpus.as_ref().map(Vec::len))
            .unwrap_or(online)
            .clamp(1, 1024);
        let rate = self.rate.as_deref().map(parse_rate).transpose()?;
        let base = Weights::preset(self.profile);
        let weights = match &self.weights {
            Some(s) => parse_weights(base, s)?,
            None => base,
        };
        let sni = self.sni.unwrap_or_else(|| {
            if self.host.parse::<IpAddr>().is_ok() {
                "localhost".into()
            } else {
                self.host.clone()
            }
        });
        let delivery_rate = match self.delivery_rate {
            Some(r) if r.is_finite() && (0.001..=1_000_000.0).contains(&r) => r,
            Some(_) => {
                return Err(ArgError::Invalid(
                    "--delivery-rate must be 0.001..=1000000".into(),
                ));
            }
            None => 20.0,
        };
        Ok(Settings {
            scenario: self.scenario,
            target,
            lmtp_target,
            tls: self.tls,
            ca: self.ca,
            insecure: self.insecure,
            sni,
            resume: !self.no_resume,
            user_pattern: self.user,
            users,
            password: self.password,
            auth: self.auth,
            clients,
            rate,
            spread_sources: self.spread_sources,
            warmup: parse_duration(warmup)?,
            duration: parse_duration(&self.duration)?,
            max_ops: self.max_ops,
            threads,
            cpus,
            timeout: parse_duration(&self.timeout)?.max(Duration::from_millis(1)),
            json: self.json,
            quiet: self.quiet,
            weights,
            mailbox: self.mailbox,
            msg_size: self.msg_size,
            idle_time: parse_duration(&self.idle_time)?,
            rcpts: self.rcpts,
            rcpt_domain: self.rcpt_domain,
            delivery_rate,
            server_pid: self.server_pid,
            seed: self.seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Result<Settings, ArgError> {
        let mut v = vec!["tern-loadtest"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v).expect("clap").into_settings()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("1e999").is_err());
    }

    #[test]
    fn ranges_rates_cpus() {
        assert_eq!(parse_user_range("1-1000"), Ok((1, 1000)));
        assert_eq!(parse_user_range("7"), Ok((7, 7)));
        assert!(parse_user_range("9-3").is_err());
        assert!(parse_user_range("a-b").is_err());
        assert_eq!(parse_rate("500/s"), Ok(500.0));
        assert_eq!(parse_rate("2.5"), Ok(2.5));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("NaN").is_err());
        assert!(parse_rate("1e-300").is_err());
        assert!(parse_rate("1e300").is_err());
        assert_eq!(parse_cpus("1,3-5"), Ok(vec![1, 3, 4, 5]));
        assert!(parse_cpus("5-1").is_err());
        assert!(parse_cpus("x").is_err());
    }

    #[test]
    fn weights_override() {
        let w = parse_weights(Weights::preset(Profile::Desktop), "idle=0, fetch-body=99").unwrap();
        assert_eq!(w.get(MixOp::Idle), 0);
        assert_eq!(w.get(MixOp::FetchBody), 99);
        assert!(parse_weights(w, "bogus=1").is_err());
        assert!(parse_weights(w, "idle").is_err());
        let zero = "select=0,fetch-flags=0,fetch-headers=0,fetch-body=0,store=0,search=0,append=0,expunge=0,idle=0,noop=0";
        assert!(parse_weights(w, zero).is_err());
    }

    #[test]
    fn full_command_line() {
        let s = settings(&[
            "login",
            "--tls",
            "implicit",
            "--insecure",
            "--users",
            "1-1000",
            "--user",
            "u%d",
            "--clients",
            "50",
            "--rate",
            "300/s",
            "--threads",
            "2",
        ])
        .unwrap();
        assert_eq!(s.target.port(), 993);
        assert_eq!(s.clients, 50);
        assert_eq!(s.rate, Some(300.0));
        assert_eq!(s.threads, 2);
        assert_eq!(s.user(0), "u1");
        assert_eq!(s.user(999), "u1000");
        assert_eq!(s.user(1000), "u1");
        assert_eq!(s.sni, "localhost");
        let p = settings(&["pop3", "--tls", "implicit", "--insecure"]).unwrap();
        assert_eq!(p.target.port(), 995);
        assert_eq!(settings(&["lmtp"]).unwrap().target.port(), 24);
    }

    #[test]
    fn a_fixed_user_is_every_connection_s_user() {
        let s = settings(&["login", "--user", "demo", "--password", "pw"]).unwrap();
        assert_eq!(s.user(0), "demo");
        assert_eq!(s.user(41), "demo");
        assert_eq!(s.user_count(), 1);
        assert_eq!(s.password, "pw");
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            settings(&["login", "--host", "192.0.2.1"]),
            Err(ArgError::Remote(_))
        ));
        assert!(settings(&["login", "--host", "192.0.2.1", "--allow-remote"]).is_ok());
        assert!(matches!(
            settings(&["login", "--user", "u%d-%d"]),
            Err(ArgError::UserPattern(_))
        ));
        assert!(settings(&["login", "--tls", "starttls"]).is_err());
        assert!(settings(&["login", "--clients", "0"]).is_err());
        assert!(settings(&["idle-hold", "--delivery-rate", "0"]).is_err());
        assert!(settings(&["idle-hold", "--delivery-rate", "1e-300"]).is_err());
        assert!(Cli::try_parse_from(["tern-loadtest", "nonsense"]).is_err());
    }
}
