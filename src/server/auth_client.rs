//! The shard side of the auth helper: an `Authenticator` that sends
//! pipelined requests over the shard's own SOCK_SEQPACKET socket and
//! matches responses by id, on the shard's glommio reactor (nothing here
//! blocks the shard).
//!
//! Abuse resistance lives here too, because it must not cost the helper
//! anything: the per-remote-IP penalty delays an address's next attempt
//! before it is sent, and every refusal is answered at one fixed time
//! after the check started (`auth_failure_delay`, from the helper), so
//! an unknown user and a wrong password look alike however long the
//! check itself took.
//!
//! Failure of the helper is never a hang: the helper closing the socket,
//! a new worker announcing itself (`HELLO_ID`), or the request timeout
//! each fail the waiting logins with a temporary error.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::channels::local_channel::{self, LocalSender};

use crate::auth::fields::UserRecord;
use crate::auth::helper::{HELLO_ID, HelperConfig, sys};
use crate::auth::penalty::{PenaltySettings, PenaltyTracker};
use crate::auth::protocol::{
    FailReason, FrameDecoder, MAX_FRAME_LEN, Request, Response, WireMessage,
};
use crate::auth::username::{UsernameRules, canonical_username, split_master_login};
use crate::shard::env::{
    AuthOutcome, AuthRequest, Authenticator, LocalFuture, UserInfo, UserLookup, ip_in_net,
};

/// A request unanswered for this long fails with a temporary error. PAM
/// with a network module can be slow; a hung worker must not hang logins.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the client needs from the configuration.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub username_rules: UsernameRules,
    pub username_format: String,
    /// `auth_master_user_separator` when a master passdb exists (empty
    /// otherwise): `user*master` is checked as two names.
    pub master_user_separator: String,
    /// Used for refusals decided here, without asking the helper.
    pub failure_delay: Duration,
    pub request_timeout: Duration,
    pub penalty: PenaltySettings,
    /// `login_trusted_networks`: proxies and webmail log in for many
    /// users from one address, so no penalty applies to them.
    pub trusted_networks: Vec<(IpAddr, u8)>,
}

impl ClientSettings {
    pub fn new(cfg: &HelperConfig, trusted_networks: Vec<(IpAddr, u8)>) -> Self {
        ClientSettings {
            trusted_networks,
            username_rules: UsernameRules::new(&cfg.username_chars),
            username_format: cfg.username_format.clone(),
            master_user_separator: if cfg.master_passdbs.is_empty() {
                String::new()
            } else {
                cfg.master_user_separator.clone()
            },
            failure_delay: cfg.failure_delay,
            request_timeout: REQUEST_TIMEOUT,
            penalty: PenaltySettings::default(),
        }
    }
}

/// A one-shot slot a waiting request sleeps on.
#[derive(Default)]
struct Slot {
    value: RefCell<Option<Response>>,
    waker: RefCell<Option<Waker>>,
}

impl Slot {
    fn fill(&self, r: Response) {
        *self.value.borrow_mut() = Some(r);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

struct SlotFuture(Rc<Slot>);

impl Future for SlotFuture {
    type Output = Response;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        if let Some(r) = self.0.value.borrow_mut().take() {
            return Poll::Ready(r);
        }
        *self.0.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The per-shard connection to the helper.
struct Link {
    pending: RefCell<HashMap<u32, Rc<Slot>>>,
    next_id: Cell<u32>,
    /// The helper closed the socket: it is gone for good.
    closed: Cell<bool>,
    outbox: LocalSender<(u32, Vec<u8>)>,
}

fn temp_fail(id: u32, why: &str) -> Response {
    Response::Fail {
        id,
        reason: FailReason::TempFail(why.to_string()),
        delay_ms: 0,
    }
}

impl Link {
    fn fail_all(&self, why: &str) {
        let pending: Vec<(u32, Rc<Slot>)> = self.pending.borrow_mut().drain().collect();
        if !pending.is_empty() {
            tracing::warn!("auth: failing {} in-flight requests: {why}", pending.len());
        }
        for (id, slot) in pending {
            slot.fill(temp_fail(id, why));
        }
    }

    fn deliver(&self, r: Response) {
        let id = r.id();
        if id == HELLO_ID {
            self.fail_all("auth worker restarted");
            return;
        }
        // None: the request already timed out or was failed by a restart.
        if let Some(slot) = self.pending.borrow_mut().remove(&id) {
            slot.fill(r);
        }
    }

    fn allocate_id(&self) -> u32 {
        loop {
            let id = self.next_id.get().wrapping_add(1);
            self.next_id.set(id);
            if id != HELLO_ID && !self.pending.borrow().contains_key(&id) {
                return id;
            }
        }
    }

    /// Sends a request (its id is filled in) and waits for the answer.
    async fn call(&self, make: impl FnOnce(u32) -> Request, timeout: Duration) -> Response {
        if self.closed.get() {
            return temp_fail(0, "auth helper is gone");
        }
        let id = self.allocate_id();
        let mut frame = Vec::new();
        if let Err(e) = make(id).encode(&mut frame) {
            return temp_fail(id, &format!("cannot encode the request: {e}"));
        }
        let slot = Rc::new(Slot::default());
        self.pending.borrow_mut().insert(id, slot.clone());
        if self.outbox.try_send((id, frame)).is_err() {
            self.pending.borrow_mut().remove(&id);
            return temp_fail(id, "auth link closed");
        }
        let answer = async { Some(SlotFuture(slot).await) };
        let expire = async {
            glommio::timer::sleep(timeout).await;
            None
        };
        match futures_lite::future::or(answer, expire).await {
            Some(r) => r,
            None => {
                self.pending.borrow_mut().remove(&id);
                tracing::warn!("auth: no answer from the helper within {timeout:?}");
                temp_fail(id, "auth helper timed out")
            }
        }
    }
}

/// `Authenticator` over the auth helper.
pub struct HelperClient {
    link: Rc<Link>,
    settings: ClientSettings,
    penalty: RefCell<PenaltyTracker>,
    fingerprints: RandomState,
}

impl HelperClient {
    /// Takes this shard's end of its helper socket; spawns the reader and
    /// writer tasks on the current glommio executor.
    pub fn new(socket: OwnedFd, settings: ClientSettings) -> std::io::Result<Rc<HelperClient>> {
        let read_half = sys::glommio_stream(socket.try_clone()?);
        let write_half = sys::glommio_stream(socket);
        let (outbox, outgoing) = local_channel::new_unbounded::<(u32, Vec<u8>)>();
        let link = Rc::new(Link {
            pending: RefCell::new(HashMap::new()),
            next_id: Cell::new(HELLO_ID),
            closed: Cell::new(false),
            outbox,
        });

        let writer_link = link.clone();
        glommio::spawn_local(async move {
            let mut stream = write_half;
            while let Some((id, frame)) = outgoing.recv().await {
                // SOCK_SEQPACKET: one write is one whole packet or an error.
                if let Err(e) = stream.write(&frame).await {
                    tracing::warn!("auth: cannot send to the helper: {e}");
                    writer_link.deliver(temp_fail(id, "auth helper unreachable"));
                }
            }
        })
        .detach();

        let reader_link = link.clone();
        glommio::spawn_local(async move {
            let mut stream = read_half;
            let mut buf = vec![0u8; MAX_FRAME_LEN + 64];
            loop {
                let n = match stream.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => {
                        tracing::error!("auth: reading from the helper: {e}");
                        break;
                    }
                };
                let mut decoder = FrameDecoder::new();
                match decoder
                    .push(&buf[..n])
                    .and_then(|()| decoder.next_message::<Response>())
                {
                    Ok(Some(r)) => reader_link.deliver(r),
                    Ok(None) => tracing::warn!("auth: incomplete packet from the helper"),
                    Err(e) => tracing::warn!("auth: bad packet from the helper: {e}"),
                }
            }
            reader_link.closed.set(true);
            reader_link.fail_all("auth helper closed the connection");
            tracing::error!("auth: the helper is gone; logins fail until the server restarts");
        })
        .detach();

        Ok(Rc::new(HelperClient {
            link,
            penalty: RefCell::new(PenaltyTracker::new(settings.penalty)),
            settings,
            fingerprints: RandomState::new(),
        }))
    }

    async fn refuse_after(&self, started: Instant, delay: Duration, reason: String) -> AuthOutcome {
        sleep_until(started + delay).await;
        AuthOutcome::Failed { reason }
    }

    async fn authenticate_inner(&self, req: AuthRequest) -> AuthOutcome {
        let started = Instant::now();
        // Checked before anything else: such a name never leaves the shard.
        let (user, master) = split_master_login(&req.user, &self.settings.master_user_separator);
        let invalid = std::iter::once(user).chain(master).find_map(|name| {
            canonical_username(
                &self.settings.username_rules,
                &self.settings.username_format,
                name,
            )
            .err()
        });
        if let Some(e) = invalid {
            tracing::info!(
                "auth: passdb({:?},{}): invalid user name: {e}",
                req.user,
                ip_text(req.remote_ip)
            );
            return self
                .refuse_after(
                    started,
                    self.settings.failure_delay,
                    "invalid user name".into(),
                )
                .await;
        }
        let penalised_ip = req.remote_ip.filter(|&ip| {
            !self
                .settings
                .trusted_networks
                .iter()
                .any(|&(net, bits)| ip_in_net(ip, net, bits))
        });
        let penalty = match penalised_ip {
            Some(ip) => self.penalty.borrow().delay(ip, started),
            None => Duration::ZERO,
        };
        if !penalty.is_zero() {
            glommio::timer::sleep(penalty).await;
        }
        let checked_at = Instant::now();
        let fingerprint = self
            .fingerprints
            .hash_one((&req.user, req.password.expose()));
        let AuthRequest {
            service,
            user,
            password,
            remote_ip,
            local_ip,
            secured,
            mechanism,
        } = req;
        let response = self
            .link
            .call(
                |id| Request::Passdb {
                    id,
                    service: service.name().to_string(),
                    user,
                    password,
                    rip: remote_ip,
                    lip: local_ip,
                    secured,
                    mech: mechanism.to_string(),
                },
                self.settings.request_timeout,
            )
            .await;
        match response {
            Response::Ok { user, .. } => {
                if let Some(ip) = penalised_ip {
                    self.penalty.borrow_mut().record_success(ip);
                }
                AuthOutcome::Ok { user: user.user }
            }
            Response::Fail {
                reason: FailReason::TempFail(why),
                ..
            } => AuthOutcome::TempFail { reason: why },
            Response::Fail {
                reason, delay_ms, ..
            } => {
                if let Some(ip) = remote_ip {
                    self.penalty
                        .borrow_mut()
                        .record_failure(ip, Some(fingerprint), Instant::now());
                }
                self.refuse_after(
                    checked_at,
                    Duration::from_millis(u64::from(delay_ms)),
                    reason_text(&reason),
                )
                .await
            }
        }
    }

    /// The userdb record of `user` (uid, gid, home, mail, extra fields),
    /// as the helper's userdb chain gives it.
    pub async fn userdb(&self, user: &str) -> UserdbAnswer {
        if canonical_username(
            &self.settings.username_rules,
            &self.settings.username_format,
            user,
        )
        .is_err()
        {
            return UserdbAnswer::NotFound;
        }
        let user = user.to_string();
        let response = self
            .link
            .call(
                |id| Request::Userdb {
                    id,
                    service: "lmtp".into(),
                    user,
                },
                self.settings.request_timeout,
            )
            .await;
        match response {
            Response::Ok { user, .. } => UserdbAnswer::Found(user),
            Response::Fail {
                reason: FailReason::TempFail(why),
                ..
            } => UserdbAnswer::TempFail(why),
            Response::Fail { .. } => UserdbAnswer::NotFound,
        }
    }
}

/// Result of a userdb lookup through the helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserdbAnswer {
    Found(UserRecord),
    NotFound,
    /// The helper could not answer; retry later (LMTP 451).
    TempFail(String),
}

fn ip_text(ip: Option<IpAddr>) -> String {
    ip.map(|i| i.to_string()).unwrap_or_default()
}

fn reason_text(r: &FailReason) -> String {
    match r {
        FailReason::BadCredentials | FailReason::UnknownUser => {
            "unknown user or password mismatch".into()
        }
        FailReason::Locked => "account locked".into(),
        FailReason::Disallowed(why) => why.clone(),
        FailReason::TempFail(why) => why.clone(),
    }
}

async fn sleep_until(deadline: Instant) {
    let left = deadline.saturating_duration_since(Instant::now());
    if !left.is_zero() {
        glommio::timer::sleep(left).await;
    }
}

impl Authenticator for HelperClient {
    fn authenticate<'a>(&'a self, req: AuthRequest) -> LocalFuture<'a, AuthOutcome> {
        Box::pin(self.authenticate_inner(req))
    }

    fn lookup_user<'a>(&'a self, user: &'a str) -> LocalFuture<'a, UserLookup> {
        Box::pin(async move {
            match self.userdb(user).await {
                UserdbAnswer::Found(r) => UserLookup::Found(UserInfo {
                    user: r.user,
                    home: r.home.unwrap_or_default(),
                    mail: r.mail,
                    uid: r.uid,
                    gid: r.gid,
                }),
                UserdbAnswer::NotFound => UserLookup::NotFound,
                UserdbAnswer::TempFail(e) => UserLookup::TempFail(e),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::env::Protocol;
    use std::thread;

    fn settings() -> ClientSettings {
        let mut s = ClientSettings::new(
            &HelperConfig::default(),
            vec![("10.0.0.0".parse().unwrap(), 8)],
        );
        s.failure_delay = Duration::from_millis(30);
        s.penalty.initial = Duration::from_millis(200);
        s
    }

    fn request(user: &str, password: &str, ip: &str) -> AuthRequest {
        AuthRequest {
            service: Protocol::Imap,
            user: user.into(),
            password: crate::auth::secret::Secret::from(password),
            remote_ip: Some(ip.parse().unwrap()),
            local_ip: None,
            secured: true,
            mechanism: "PLAIN",
        }
    }

    fn recv_request(fd: &OwnedFd) -> Option<Request> {
        let mut buf = vec![0u8; MAX_FRAME_LEN + 64];
        let n = sys::recv_packet(fd, &mut buf).ok()?;
        let mut d = FrameDecoder::new();
        d.push(&buf[..n]).ok()?;
        d.next_message::<Request>().ok()?
    }

    fn send(fd: &OwnedFd, r: Response) {
        let mut frame = Vec::new();
        r.encode(&mut frame).unwrap();
        sys::send_packet(fd, &frame).unwrap();
    }

    fn fail(id: u32, reason: FailReason, delay_ms: u32) -> Response {
        Response::Fail {
            id,
            reason,
            delay_ms,
        }
    }

    /// Runs `test` on a glommio executor with a client whose helper end is
    /// served by `helper` on a plain thread.
    fn with_client<H, T, F>(settings: ClientSettings, helper: H, test: T)
    where
        H: FnOnce(OwnedFd) + Send + 'static,
        T: FnOnce(Rc<HelperClient>) -> F + Send + 'static,
        F: Future<Output = ()>,
    {
        let (ours, theirs) = sys::seqpacket_pair().unwrap();
        let helper = thread::spawn(move || helper(theirs));
        let ex = glommio::LocalExecutorBuilder::default().make().unwrap();
        ex.run(async move {
            let client = HelperClient::new(ours, settings).unwrap();
            test(client).await;
        });
        helper.join().unwrap();
    }

    #[test]
    fn pipelined_requests_are_matched_by_id_and_refusals_wait() {
        with_client(
            settings(),
            |fd| {
                let a = recv_request(&fd).unwrap();
                let b = recv_request(&fd).unwrap();
                // Answer out of order.
                send(
                    &fd,
                    Response::Ok {
                        id: b.id(),
                        user: UserRecord::new("bob"),
                    },
                );
                send(&fd, fail(a.id(), FailReason::UnknownUser, 80));
            },
            |client| async move {
                let started = Instant::now();
                let (a, b) = futures_lite::future::zip(
                    client.authenticate(request("alice", "x", "10.1.1.1")),
                    client.authenticate(request("bob", "y", "10.1.1.2")),
                )
                .await;
                assert!(matches!(a, AuthOutcome::Failed { .. }), "{a:?}");
                assert_eq!(b, AuthOutcome::Ok { user: "bob".into() });
                assert!(started.elapsed() >= Duration::from_millis(80));
            },
        );
    }

    #[test]
    fn a_new_worker_fails_what_was_in_flight() {
        with_client(
            settings(),
            |fd| {
                let _lost = recv_request(&fd).unwrap();
                send(
                    &fd,
                    fail(HELLO_ID, FailReason::TempFail("restarted".into()), 0),
                );
                let next = recv_request(&fd).unwrap();
                send(
                    &fd,
                    Response::Ok {
                        id: next.id(),
                        user: UserRecord::new("alice"),
                    },
                );
            },
            |client| async move {
                let r = client.authenticate(request("alice", "x", "10.1.1.1")).await;
                assert!(matches!(r, AuthOutcome::TempFail { .. }), "{r:?}");
                let r = client.authenticate(request("alice", "x", "10.1.1.1")).await;
                assert_eq!(
                    r,
                    AuthOutcome::Ok {
                        user: "alice".into()
                    }
                );
            },
        );
    }

    #[test]
    fn a_closed_helper_fails_now_and_later() {
        with_client(
            settings(),
            |fd| {
                let _ = recv_request(&fd).unwrap();
                drop(fd);
            },
            |client| async move {
                let r = client.authenticate(request("alice", "x", "10.1.1.1")).await;
                assert!(matches!(r, AuthOutcome::TempFail { .. }), "{r:?}");
                let started = Instant::now();
                let r = client.authenticate(request("alice", "x", "10.1.1.1")).await;
                assert!(matches!(r, AuthOutcome::TempFail { .. }), "{r:?}");
                assert!(started.elapsed() < Duration::from_secs(1));
                assert!(matches!(
                    client.lookup_user("alice").await,
                    UserLookup::TempFail(_)
                ));
            },
        );
    }

    #[test]
    fn a_silent_helper_times_out() {
        let mut s = settings();
        s.request_timeout = Duration::from_millis(100);
        with_client(
            s,
            |fd| {
                let _ = recv_request(&fd).unwrap();
                // Keep the socket open until the client has given up.
                thread::sleep(Duration::from_millis(300));
            },
            |client| async move {
                let r = client.authenticate(request("alice", "x", "10.1.1.1")).await;
                assert_eq!(
                    r,
                    AuthOutcome::TempFail {
                        reason: "auth helper timed out".into()
                    }
                );
            },
        );
    }

    #[test]
    fn bad_names_are_refused_without_asking_and_penalty_grows_per_ip() {
        with_client(
            settings(),
            |fd| {
                for _ in 0..3 {
                    let Some(Request::Passdb { id, user, .. }) = recv_request(&fd) else {
                        panic!("expected a passdb request");
                    };
                    assert_eq!(user, "alice");
                    send(&fd, fail(id, FailReason::BadCredentials, 0));
                }
                let Some(Request::Userdb { id, user, .. }) = recv_request(&fd) else {
                    panic!("expected a userdb request");
                };
                assert_eq!(user, "carol");
                send(&fd, fail(id, FailReason::UnknownUser, 0));
            },
            |client| async move {
                for bad in ["../etc", "a/b", "a\0b"] {
                    let started = Instant::now();
                    let r = client.authenticate(request(bad, "x", "192.0.2.1")).await;
                    assert_eq!(
                        r,
                        AuthOutcome::Failed {
                            reason: "invalid user name".into()
                        }
                    );
                    // Refused after the same delay as any other failure.
                    assert!(started.elapsed() >= Duration::from_millis(30));
                }
                // First failure from 192.0.2.1: no penalty before it.
                let started = Instant::now();
                let _ = client
                    .authenticate(request("alice", "a", "192.0.2.1"))
                    .await;
                assert!(started.elapsed() < Duration::from_millis(150));
                // Second, with other credentials: delayed by the penalty.
                let started = Instant::now();
                let _ = client
                    .authenticate(request("alice", "b", "192.0.2.1"))
                    .await;
                assert!(started.elapsed() >= Duration::from_millis(200));
                // A trusted network is never penalised.
                let started = Instant::now();
                let _ = client.authenticate(request("alice", "c", "10.9.9.9")).await;
                assert!(started.elapsed() < Duration::from_millis(150));
                assert_eq!(client.lookup_user("carol").await, UserLookup::NotFound);
                assert_eq!(client.lookup_user("../x").await, UserLookup::NotFound);
            },
        );
    }

    #[test]
    fn userdb_lookups_return_the_whole_record() {
        with_client(
            settings(),
            |fd| {
                let Some(Request::Userdb { id, user, service }) = recv_request(&fd) else {
                    panic!("expected a userdb request");
                };
                assert_eq!((user.as_str(), service.as_str()), ("dave", "lmtp"));
                let mut record = UserRecord::new("dave");
                record.uid = Some(5000);
                record.home = Some("/var/mail/dave/".into());
                send(&fd, Response::Ok { id, user: record });
                let Some(Request::Userdb { id, .. }) = recv_request(&fd) else {
                    panic!("expected a userdb request");
                };
                send(&fd, fail(id, FailReason::TempFail("NSS down".into()), 0));
            },
            |client| async move {
                match client.userdb("dave").await {
                    UserdbAnswer::Found(r) => {
                        assert_eq!(r.uid, Some(5000));
                        assert_eq!(r.home.as_deref(), Some("/var/mail/dave/"));
                    }
                    other => panic!("{other:?}"),
                }
                assert_eq!(
                    client.userdb("erin").await,
                    UserdbAnswer::TempFail("NSS down".into())
                );
            },
        );
    }
}
