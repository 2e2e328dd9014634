//! What the helper does with one request: user name rules, the passdb
//! cache, one in-flight check per (user, password), the passdb chain, the
//! userdb chain with `default_fields` / `override_fields`, and the
//! uid/gid range checks. Blocking (PAM, NSS, file reads, hashing): runs on
//! the helper worker's threads only.
//!
//! The system calls behind it (PAM, NSS) come through the `System` trait
//! so the logic is tested without root.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::config::{HelperConfig, PassdbDriver, UserdbConfig, UserdbDriver};
use super::sys::SystemUser;
use crate::auth::cache::{Cached, PassdbCache};
use crate::auth::fields::{FieldPrecedence, IdKind, UserRecord};
use crate::auth::pam::{PamOutcome, PamResult};
use crate::auth::passwd_file::{PasswdFileArgs, PasswdFileDb, PasswordVerdict};
use crate::auth::protocol::{FailReason, Request, Response};
use crate::auth::username::{UsernameRules, canonical_username, split_master_login};
use crate::config::VarTable;

/// PAM and NSS, as the engine uses them.
pub trait System: Send + Sync {
    fn pam(&self, service: &str, user: &str, password: &[u8], rhost: Option<&str>) -> PamOutcome;
    fn user(&self, name: &str) -> io::Result<Option<SystemUser>>;
    fn group_id(&self, name: &str) -> io::Result<Option<u32>>;
}

/// The real thing: Linux-PAM and glibc NSS.
pub struct RealSystem;

impl System for RealSystem {
    fn pam(&self, service: &str, user: &str, password: &[u8], rhost: Option<&str>) -> PamOutcome {
        crate::auth::pam::pam_authenticate(service, user, password, rhost)
    }
    fn user(&self, name: &str) -> io::Result<Option<SystemUser>> {
        super::sys::getpwnam(name)
    }
    fn group_id(&self, name: &str) -> io::Result<Option<u32>> {
        super::sys::getgrnam(name)
    }
}

/// The result of a passdb (+ userdb) request.
pub type Verdict = Result<UserRecord, FailReason>;

/// Called with the verdict once it is known (maybe on another thread,
/// when the same credentials were already being checked).
pub type Waiter = Box<dyn FnOnce(&Verdict) + Send>;

/// Where responses for one shard go.
pub type Reply = Arc<dyn Fn(Response) + Send + Sync>;

type FlightKey = [u8; 32];

mod master;

pub struct Engine<S: System> {
    cfg: HelperConfig,
    rules: UsernameRules,
    sys: S,
    cache: Mutex<PassdbCache<UserRecord>>,
    files: Mutex<HashMap<String, PasswdFileDb>>,
    flights: Mutex<HashMap<FlightKey, Vec<Waiter>>>,
    flight_key: [u8; 32],
    mail_uid: Option<u32>,
    mail_gid: Option<u32>,
    pam_calls: AtomicU64,
}

/// A poisoned lock only means another request panicked; the data (a cache,
/// a map of files) is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Which failure wins when several passdbs refuse.
fn severity(r: &FailReason) -> u8 {
    match r {
        FailReason::UnknownUser => 0,
        FailReason::BadCredentials => 1,
        FailReason::Locked | FailReason::Disallowed(_) => 2,
        FailReason::TempFail(_) => 3,
    }
}

fn describe(r: &FailReason) -> String {
    match r {
        FailReason::UnknownUser => "unknown user".into(),
        FailReason::BadCredentials => "Password mismatch".into(),
        FailReason::Locked => "account locked".into(),
        FailReason::Disallowed(why) => why.clone(),
        FailReason::TempFail(why) => format!("temporary failure: {why}"),
    }
}

fn who(user: &str, rip: Option<IpAddr>) -> String {
    match rip {
        Some(ip) => format!("{user},{ip}"),
        None => user.to_string(),
    }
}

impl<S: System> Engine<S> {
    /// `random_key` keys the cache and the in-flight table; random per
    /// process in production, fixed in tests.
    pub fn new(cfg: HelperConfig, sys: S, random_key: [u8; 32]) -> Self {
        let resolve_user = |name: &str| -> Option<u32> {
            if name.is_empty() {
                return None;
            }
            name.parse()
                .ok()
                .or_else(|| sys.user(name).ok().flatten().map(|u| u.uid))
        };
        let mail_uid = resolve_user(&cfg.mail_uid);
        let mail_gid = if cfg.mail_gid.is_empty() {
            None
        } else {
            cfg.mail_gid
                .parse()
                .ok()
                .or_else(|| sys.group_id(&cfg.mail_gid).ok().flatten())
        };
        let mut cache_key = random_key;
        cache_key[0] ^= 0x5a;
        Engine {
            rules: UsernameRules::new(&cfg.username_chars),
            cache: Mutex::new(PassdbCache::new(cfg.cache, cache_key)),
            files: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            flight_key: random_key,
            mail_uid,
            mail_gid,
            pam_calls: AtomicU64::new(0),
            cfg,
            sys,
        }
    }

    /// PAM conversations started so far (tests, and the storm benchmark).
    pub fn pam_calls(&self) -> u64 {
        self.pam_calls.load(Ordering::Relaxed)
    }

    fn delay_ms(&self) -> u32 {
        u32::try_from(self.cfg.failure_delay.as_millis()).unwrap_or(u32::MAX)
    }

    /// Serves one request; `reply` gets the response (at once, or later
    /// from the thread that finishes the same check).
    pub fn handle(&self, req: Request, reply: Reply) {
        let delay_ms = self.delay_ms();
        let respond = move |id: u32, verdict: &Verdict| {
            reply(match verdict {
                Ok(user) => Response::Ok {
                    id,
                    user: user.clone(),
                },
                Err(reason) => Response::Fail {
                    id,
                    reason: reason.clone(),
                    delay_ms,
                },
            })
        };
        match req {
            Request::Passdb {
                id,
                service,
                user,
                password,
                rip,
                ..
            } => self.passdb(
                &service,
                &user,
                password.expose(),
                rip,
                Box::new(move |v| respond(id, v)),
            ),
            Request::Userdb { id, service, user } => {
                let verdict = self.userdb_request(&service, &user);
                respond(id, &verdict);
            }
        }
    }

    fn canonical(&self, login: &str, rip: Option<IpAddr>) -> Result<String, FailReason> {
        canonical_username(&self.rules, &self.cfg.username_format, login).map_err(|e| {
            tracing::info!(
                "auth: passdb({}): invalid user name: {e}",
                who(&login.escape_debug().to_string(), rip)
            );
            FailReason::Disallowed("invalid user name".into())
        })
    }

    /// A userdb lookup as a shard asks for it (login name canonicalised
    /// first); also what `tern admin` uses to find a user's store, so the
    /// CLI resolves every spelling exactly as the server does.
    pub fn userdb_request(&self, service: &str, login: &str) -> Verdict {
        let user = self.canonical(login, None)?;
        self.guarded(|| self.userdb(service, &user, None, false))
    }

    /// Runs `f`, turning a panic into a temporary failure so a waiter is
    /// never left without an answer.
    fn guarded(&self, f: impl FnOnce() -> Verdict) -> Verdict {
        catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
            tracing::error!("auth: internal error while checking a login");
            Err(FailReason::TempFail("internal error".into()))
        })
    }

    fn flight_key(&self, user: &str, password: &[u8]) -> FlightKey {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.flight_key)
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
        mac.update(user.as_bytes());
        mac.update(&[0]);
        mac.update(password);
        mac.finalize().into_bytes().into()
    }

    /// The passdb check with cache and in-flight coalescing.
    pub fn passdb(
        &self,
        service: &str,
        login: &str,
        password: &[u8],
        rip: Option<IpAddr>,
        done: Waiter,
    ) {
        let (target, master) = split_master_login(login, &self.cfg.master_user_separator);
        if let Some(master) = master.filter(|_| !self.cfg.master_passdbs.is_empty()) {
            let verdict =
                self.guarded(|| self.master_login(service, target, master, password, rip));
            return done(&verdict);
        }
        let user = match self.canonical(login, rip) {
            Ok(u) => u,
            Err(reason) => return done(&Err(reason)),
        };
        if let Some(hit) = lock(&self.cache).get(&user, password, Instant::now()) {
            let verdict = match hit {
                Cached::Success(record) => Ok(record),
                Cached::WrongPassword => Err(FailReason::BadCredentials),
                Cached::UnknownUser => Err(FailReason::UnknownUser),
            };
            if let Err(r) = &verdict {
                tracing::info!("auth: cache({}): {} (cached)", who(&user, rip), describe(r));
            }
            return done(&verdict);
        }
        let key = self.flight_key(&user, password);
        {
            let mut flights = lock(&self.flights);
            if let Some(waiting) = flights.get_mut(&key) {
                waiting.push(done);
                return;
            }
            flights.insert(key, Vec::new());
        }
        let verdict = self.guarded(|| self.check(service, &user, password, rip));
        let cached = match &verdict {
            Ok(record) => Some(Cached::Success(record.clone())),
            Err(FailReason::BadCredentials) => Some(Cached::WrongPassword),
            Err(FailReason::UnknownUser) => Some(Cached::UnknownUser),
            Err(_) => None,
        };
        if let Some(c) = cached {
            lock(&self.cache).insert(&user, password, c, Instant::now());
        }
        let waiters = lock(&self.flights).remove(&key).unwrap_or_default();
        done(&verdict);
        for w in waiters {
            w(&verdict);
        }
    }

    fn check(&self, service: &str, user: &str, password: &[u8], rip: Option<IpAddr>) -> Verdict {
        let mut worst: Option<FailReason> = None;
        let mut ok = false;
        for db in &self.cfg.passdbs {
            let (name, result) = self.one_passdb(db, service, user, password, rip);
            match result {
                Ok(()) => {
                    ok = true;
                    break;
                }
                Err(reason) => {
                    tracing::info!("auth: {name}({}): {}", who(user, rip), describe(&reason));
                    if worst
                        .as_ref()
                        .is_none_or(|w| severity(&reason) > severity(w))
                    {
                        worst = Some(reason);
                    }
                }
            }
        }
        if !ok {
            return Err(worst.unwrap_or(FailReason::UnknownUser));
        }
        let record = self.userdb(service, user, rip, true)?;
        tracing::info!("auth: login: {} ok", who(&record.user, rip));
        Ok(record)
    }

    fn vars(&self, service: &str, user: &str, rip: Option<IpAddr>) -> VarTable {
        let mut v = VarTable::for_user(user).with(Some('s'), "service", service);
        if let Some(ip) = rip {
            v.set(Some('r'), "rip", ip.to_string());
        }
        v
    }

    /// Runs `f` on the passwd-file at `path` (expanded), reading it on
    /// first use and again whenever it changed on disk.
    /// The name to look `user` up under in a passwd-file, and the file's
    /// path for this request (`args` may use `%` variables in both).
    fn passwd_file_entry(
        &self,
        args: &PasswdFileArgs,
        service: &str,
        user: &str,
        rip: Option<IpAddr>,
    ) -> Result<(String, String), FailReason> {
        let name = args
            .lookup_name(user)
            .map_err(|e| FailReason::TempFail(e.to_string()))?;
        let path = self
            .vars(service, user, rip)
            .expand(&args.path)
            .map_err(|e| FailReason::TempFail(e.to_string()))?;
        Ok((name, path))
    }

    fn with_file<T>(
        &self,
        path: &str,
        f: impl FnOnce(&PasswdFileDb) -> T,
    ) -> Result<T, FailReason> {
        let mut files = lock(&self.files);
        match files.get_mut(path) {
            Some(db) => {
                if let Err(e) = db.refresh_if_changed() {
                    tracing::warn!("auth: {e}; using the previous contents");
                }
            }
            None => {
                let db = PasswdFileDb::open(path).map_err(|e| {
                    tracing::error!("auth: {e}");
                    FailReason::TempFail("passwd-file unreadable".into())
                })?;
                files.insert(path.to_string(), db);
            }
        }
        match files.get(path) {
            Some(db) => Ok(f(db)),
            None => Err(FailReason::TempFail("passwd-file unreadable".into())),
        }
    }

    fn one_passdb(
        &self,
        db: &PassdbDriver,
        service: &str,
        user: &str,
        password: &[u8],
        rip: Option<IpAddr>,
    ) -> (&'static str, Result<(), FailReason>) {
        match db {
            PassdbDriver::Pam(args) => {
                self.pam_calls.fetch_add(1, Ordering::Relaxed);
                let rhost = rip.map(|ip| ip.to_string());
                let out = self
                    .sys
                    .pam(args.service_for(service), user, password, rhost.as_deref());
                let result = match out.result {
                    PamResult::Ok => Ok(()),
                    other => Err(other.fail_reason().unwrap_or(FailReason::BadCredentials)),
                };
                ("pam", result)
            }
            PassdbDriver::PasswdFile(args) => {
                let result = (|| {
                    let (name, path) = self.passwd_file_entry(args, service, user, rip)?;
                    let verdict =
                        self.with_file(&path, |f| f.file().verify(&name, args.scheme, password))?;
                    if let PasswordVerdict::Broken(e) = &verdict {
                        tracing::error!(
                            "auth: passwd-file({}): unusable password: {e}",
                            who(user, rip)
                        );
                    }
                    verdict.fail_reason().map_or(Ok(()), Err)
                })();
                ("passwd-file", result)
            }
            PassdbDriver::Static { password: expected } => {
                use subtle::ConstantTimeEq;
                let same: bool = expected.as_bytes().ct_eq(password).into();
                (
                    "static",
                    if same {
                        Ok(())
                    } else {
                        Err(FailReason::BadCredentials)
                    },
                )
            }
        }
    }

    /// Does a passdb know `user` without a password? passwd-file can tell,
    /// static accepts everyone, PAM cannot say.
    fn passdb_knows(
        &self,
        service: &str,
        user: &str,
        rip: Option<IpAddr>,
    ) -> Result<bool, FailReason> {
        for db in &self.cfg.passdbs {
            match db {
                PassdbDriver::Static { .. } => return Ok(true),
                PassdbDriver::PasswdFile(args) => {
                    let (name, path) = self.passwd_file_entry(args, service, user, rip)?;
                    if self.with_file(&path, |f| f.file().lookup(&name).is_some())? {
                        return Ok(true);
                    }
                }
                PassdbDriver::Pam(_) => {}
            }
        }
        Ok(false)
    }

    fn resolve_id(&self, kind: IdKind, name: &str) -> Option<u32> {
        match kind {
            IdKind::User => self.sys.user(name).ok().flatten().map(|u| u.uid),
            IdKind::Group => self.sys.group_id(name).ok().flatten(),
        }
    }

    /// The userdb chain: the first userdb that knows the user wins, then its
    /// `default_fields` and `override_fields` apply, then the id limits.
    /// `verified`: a passdb has just accepted this user's password.
    pub fn userdb(
        &self,
        service: &str,
        user: &str,
        rip: Option<IpAddr>,
        verified: bool,
    ) -> Verdict {
        if self.cfg.userdbs.is_empty() {
            return Ok(UserRecord::new(user));
        }
        let vars = self.vars(service, user, rip);
        let expand = |t: &str| vars.expand(t).map_err(|e| e.to_string());
        let resolve = |kind: IdKind, name: &str| self.resolve_id(kind, name);
        for udb in &self.cfg.userdbs {
            let Some(mut record) = self.lookup_user(udb, service, user, rip, verified)? else {
                continue;
            };
            let fields = udb
                .default_fields
                .apply(&mut record, FieldPrecedence::Default, expand, resolve)
                .and_then(|()| {
                    udb.override_fields.apply(
                        &mut record,
                        FieldPrecedence::Override,
                        expand,
                        resolve,
                    )
                });
            if let Err(e) = fields {
                tracing::error!("auth: userdb({}): {e}", who(user, rip));
                return Err(FailReason::TempFail(e.to_string()));
            }
            self.check_ids(&record, rip)?;
            return Ok(record);
        }
        tracing::info!("auth: userdb({}): user doesn't exist", who(user, rip));
        Err(FailReason::UnknownUser)
    }

    fn check_ids(&self, record: &UserRecord, rip: Option<IpAddr>) -> Result<(), FailReason> {
        // With no uid anywhere, mail is handled as the server's own user
        // (checked once at start-up); there is nothing per user to refuse.
        if record.uid.or(self.mail_uid).is_none() {
            return Ok(());
        }
        self.cfg
            .limits
            .check(record, self.mail_uid, self.mail_gid)
            .map_err(|refusal| {
                tracing::warn!("auth: userdb({}): {refusal}", who(&record.user, rip));
                FailReason::Disallowed(refusal.to_string())
            })
    }

    fn lookup_user(
        &self,
        udb: &UserdbConfig,
        service: &str,
        user: &str,
        rip: Option<IpAddr>,
        verified: bool,
    ) -> Result<Option<UserRecord>, FailReason> {
        let resolve = |kind: IdKind, name: &str| self.resolve_id(kind, name);
        match &udb.driver {
            UserdbDriver::Passwd => match self.sys.user(user) {
                Ok(Some(pw)) => {
                    let mut r = UserRecord::new(user);
                    r.uid = Some(pw.uid);
                    r.gid = Some(pw.gid);
                    r.home = Some(pw.home);
                    Ok(Some(r))
                }
                Ok(None) => Ok(None),
                Err(e) => {
                    tracing::error!("auth: userdb passwd({}): getpwnam: {e}", who(user, rip));
                    Err(FailReason::TempFail("NSS lookup failed".into()))
                }
            },
            UserdbDriver::PasswdFile(args) => {
                let (name, path) = self.passwd_file_entry(args, service, user, rip)?;
                let found = self.with_file(&path, |f| {
                    f.file()
                        .lookup(&name)
                        .map(|entry| entry.to_user_record(&resolve))
                })?;
                match found {
                    None => Ok(None),
                    Some(Ok(mut record)) => {
                        record.user = user.to_string();
                        Ok(Some(record))
                    }
                    Some(Err(e)) => {
                        tracing::error!("auth: userdb passwd-file({}): {e}", who(user, rip));
                        Err(FailReason::TempFail(e.to_string()))
                    }
                }
            }
            UserdbDriver::Static {
                fields,
                allow_all_users,
            } => {
                if !verified && !*allow_all_users && !self.passdb_knows(service, user, rip)? {
                    return Ok(None);
                }
                let vars = self.vars(service, user, rip);
                let mut record = UserRecord::new(user);
                fields
                    .apply(
                        &mut record,
                        FieldPrecedence::Override,
                        |t| vars.expand(t).map_err(|e| e.to_string()),
                        resolve,
                    )
                    .map_err(|e| FailReason::TempFail(e.to_string()))?;
                Ok(Some(record))
            }
            UserdbDriver::Prefetch => Ok(Some(UserRecord::new(user))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::cache::CacheSettings;
    use crate::auth::fields::{FieldTemplate, IdLimits};
    use crate::auth::pam_args::PamArgs;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A fake system: users (name, uid, gid, password), PAM that sleeps a
    /// little so concurrent requests overlap.
    struct FakeSystem {
        users: Vec<(&'static str, u32, u32, &'static str)>,
        pam_delay: Duration,
    }

    impl System for FakeSystem {
        fn pam(
            &self,
            _service: &str,
            user: &str,
            password: &[u8],
            _rhost: Option<&str>,
        ) -> PamOutcome {
            std::thread::sleep(self.pam_delay);
            let result = match self.users.iter().find(|u| u.0 == user) {
                None => PamResult::UnknownUser,
                Some(u) if u.3.as_bytes() == password => PamResult::Ok,
                Some(_) => PamResult::BadCredentials,
            };
            PamOutcome {
                result,
                requested_fail_delay: None,
            }
        }
        fn user(&self, name: &str) -> io::Result<Option<SystemUser>> {
            Ok(self.users.iter().find(|u| u.0 == name).map(|u| SystemUser {
                name: u.0.to_string(),
                uid: u.1,
                gid: u.2,
                home: format!("/home/{}", u.0),
                shell: "/bin/sh".into(),
            }))
        }
        fn group_id(&self, name: &str) -> io::Result<Option<u32>> {
            Ok(self.users.iter().find(|u| u.0 == name).map(|u| u.2))
        }
    }

    fn seed_config() -> HelperConfig {
        HelperConfig {
            passdbs: vec![PassdbDriver::Pam(PamArgs::default())],
            userdbs: vec![UserdbConfig {
                driver: UserdbDriver::Passwd,
                default_fields: FieldTemplate::default(),
                override_fields: FieldTemplate::parse("uid=vmail gid=vmail home=/var/mail/%n/")
                    .unwrap(),
            }],
            cache: CacheSettings {
                max_entries: 100,
                ttl: Duration::from_secs(60),
                negative_ttl: Duration::from_secs(60),
            },
            limits: IdLimits {
                first_valid_uid: 1000,
                ..IdLimits::default()
            },
            ..HelperConfig::default()
        }
    }

    fn engine(cfg: HelperConfig) -> Arc<Engine<FakeSystem>> {
        Arc::new(Engine::new(
            cfg,
            FakeSystem {
                users: vec![
                    ("alice", 1001, 1001, "secret"),
                    ("vmail", 5000, 5000, ""),
                    ("daemon", 2, 2, "pw"),
                ],
                pam_delay: Duration::from_millis(30),
            },
            [7; 32],
        ))
    }

    /// An IMAP password check, waited for (the engine may answer from
    /// another thread).
    pub(super) fn passdb<S: System>(e: &Engine<S>, user: &str, pw: &str) -> Verdict {
        let (tx, rx) = mpsc::channel();
        e.passdb(
            "imap",
            user,
            pw.as_bytes(),
            None,
            Box::new(move |v| {
                let _ = tx.send(v.clone());
            }),
        );
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the engine answers within 5 s")
    }

    #[test]
    fn seed_configuration_logs_in_with_override_fields() {
        let e = engine(seed_config());
        let rec = passdb(&e, "Alice", "secret").unwrap();
        assert_eq!(rec.user, "alice");
        assert_eq!((rec.uid, rec.gid), (Some(5000), Some(5000)));
        assert_eq!(rec.home.as_deref(), Some("/var/mail/alice/"));
        assert_eq!(
            passdb(&e, "alice", "wrong"),
            Err(FailReason::BadCredentials)
        );
        assert_eq!(passdb(&e, "nobody", "x"), Err(FailReason::UnknownUser));
    }

    #[test]
    fn low_uid_is_refused_with_a_reason() {
        let mut cfg = seed_config();
        cfg.userdbs[0].override_fields = FieldTemplate::parse("home=/var/mail/%n/").unwrap();
        let e = engine(cfg);
        assert!(passdb(&e, "alice", "secret").is_ok());
        match passdb(&e, "daemon", "pw") {
            Err(FailReason::Disallowed(why)) => assert!(why.contains("UID 2"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_user_names_never_reach_pam() {
        let e = engine(seed_config());
        for bad in ["../etc", "a/b", "a\0b", "", "x\ny"] {
            assert!(
                matches!(passdb(&e, bad, "x"), Err(FailReason::Disallowed(_))),
                "{bad:?}"
            );
        }
        assert_eq!(e.pam_calls(), 0);
    }

    #[test]
    fn a_storm_of_the_same_wrong_password_costs_one_pam_call() {
        let e = engine(seed_config());
        let (tx, rx) = mpsc::channel();
        let threads: Vec<_> = (0..32)
            .map(|_| {
                let e = e.clone();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    e.passdb(
                        "imap",
                        "alice",
                        b"guess",
                        None,
                        Box::new(move |v| tx.send(v.clone()).unwrap()),
                    )
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for _ in 0..32 {
            assert_eq!(
                rx.recv_timeout(Duration::from_secs(5)).unwrap(),
                Err(FailReason::BadCredentials)
            );
        }
        // Later repeats come from the negative cache.
        assert_eq!(
            passdb(&e, "alice", "guess"),
            Err(FailReason::BadCredentials)
        );
        assert_eq!(e.pam_calls(), 1);
        // Another password is another check.
        assert!(passdb(&e, "alice", "secret").is_ok());
        assert_eq!(e.pam_calls(), 2);
    }

    #[test]
    fn without_a_cache_single_flight_still_coalesces_but_repeats_check_again() {
        let mut cfg = seed_config();
        cfg.cache.max_entries = 0;
        let e = engine(cfg);
        assert!(passdb(&e, "alice", "nope").is_err());
        assert!(passdb(&e, "alice", "nope").is_err());
        assert_eq!(e.pam_calls(), 2);
    }

    #[test]
    fn passwd_file_and_static_userdb() {
        let dir = std::env::temp_dir().join(format!("tern-engine-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users");
        std::fs::write(&path, "bob:{PLAIN}builder:1500:1500::/home/bob::\n").unwrap();
        let args = crate::auth::passwd_file::PasswdFileArgs::parse(&format!(
            "scheme=PLAIN {}",
            path.display()
        ))
        .unwrap();
        let cfg = HelperConfig {
            passdbs: vec![PassdbDriver::PasswdFile(args.clone())],
            userdbs: vec![UserdbConfig {
                driver: UserdbDriver::PasswdFile(args),
                default_fields: FieldTemplate::parse("mail=sdbox:~/mail").unwrap(),
                override_fields: FieldTemplate::default(),
            }],
            ..seed_config()
        };
        let e = engine(cfg);
        let rec = passdb(&e, "bob", "builder").unwrap();
        assert_eq!(rec.uid, Some(1500));
        assert_eq!(rec.mail.as_deref(), Some("sdbox:~/mail"));
        assert_eq!(passdb(&e, "bob", "x"), Err(FailReason::BadCredentials));
        // A changed file is read again (size changes, so the stamp does).
        std::fs::write(&path, "bob:{PLAIN}newpassword:1500:1500::/home/bob::\n").unwrap();
        assert!(passdb(&e, "bob", "newpassword").is_ok());
        assert_eq!(
            e.userdb("lmtp", "carol", None, false),
            Err(FailReason::UnknownUser)
        );

        // A static userdb asks the passwd-file whether a user exists.
        let static_userdb = |allow_all_users| UserdbConfig {
            driver: UserdbDriver::Static {
                fields: FieldTemplate::parse("home=/m/%n").unwrap(),
                allow_all_users,
            },
            default_fields: FieldTemplate::default(),
            override_fields: FieldTemplate::default(),
        };
        let file_args = crate::auth::passwd_file::PasswdFileArgs::parse(&format!(
            "scheme=PLAIN {}",
            path.display()
        ))
        .unwrap();
        let e = engine(HelperConfig {
            passdbs: vec![PassdbDriver::PasswdFile(file_args.clone())],
            userdbs: vec![static_userdb(false)],
            ..seed_config()
        });
        assert!(e.userdb("lmtp", "bob", None, false).is_ok());
        assert_eq!(
            e.userdb("lmtp", "carol", None, false),
            Err(FailReason::UnknownUser)
        );
        let e = engine(HelperConfig {
            passdbs: vec![PassdbDriver::PasswdFile(file_args)],
            userdbs: vec![static_userdb(true)],
            ..seed_config()
        });
        assert!(e.userdb("lmtp", "carol", None, false).is_ok());

        let cfg = HelperConfig {
            passdbs: vec![PassdbDriver::Static {
                password: "pw".into(),
            }],
            userdbs: vec![UserdbConfig {
                driver: UserdbDriver::Static {
                    fields: FieldTemplate::parse("uid=1234 gid=1234 home=/srv/%d/%n").unwrap(),
                    allow_all_users: false,
                },
                default_fields: FieldTemplate::default(),
                override_fields: FieldTemplate::default(),
            }],
            ..seed_config()
        };
        let e = engine(cfg);
        let rec = passdb(&e, "joe@example.org", "pw").unwrap();
        assert_eq!(rec.home.as_deref(), Some("/srv/example.org/joe"));
        assert_eq!(
            passdb(&e, "joe@example.org", "pX"),
            Err(FailReason::BadCredentials)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn handle_answers_with_the_request_id_and_delay() {
        let e = engine(seed_config());
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let reply: Reply = Arc::new(move |r| lock(&tx).send(r).unwrap());
        e.handle(
            Request::Passdb {
                id: 42,
                service: "imap".into(),
                user: "alice".into(),
                password: crate::auth::secret::Secret::new(b"bad".to_vec()),
                rip: None,
                lip: None,
                secured: true,
                mech: "PLAIN".into(),
            },
            reply.clone(),
        );
        match rx.recv().unwrap() {
            Response::Fail { id, delay_ms, .. } => assert_eq!((id, delay_ms), (42, 2000)),
            other => panic!("{other:?}"),
        }
        e.handle(
            Request::Userdb {
                id: 43,
                service: "lmtp".into(),
                user: "alice".into(),
            },
            reply,
        );
        match rx.recv().unwrap() {
            Response::Ok { id, user } => assert_eq!((id, user.uid), (43, Some(5000))),
            other => panic!("{other:?}"),
        }
    }
}
