//! The metrics endpoint's I/O (one shard serves it) and the timing of
//! every auth request a shard makes, which also counts logins.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::metrics::{self, AuthKind, LoginResult, ProcessStats, Registry, http};
use crate::net::Conn;
use crate::net::driver_io::send_in_pieces;
use crate::shard::env::{AuthOutcome, AuthRequest, Authenticator, Env, LocalFuture, UserLookup};

/// A scraper that sends no request in this long is dropped.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers scrapes until the shard stops accepting.
pub async fn serve(sock: glommio::net::TcpListener, registry: Arc<Registry>, env: Rc<Env>) {
    loop {
        let stream = match sock.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(shard = env.shard, "stats: accept failed: {e}");
                glommio::timer::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let registry = registry.clone();
        glommio::spawn_local(async move {
            answer(Conn::tcp(stream, REQUEST_TIMEOUT), &registry).await;
        })
        .detach();
    }
}

async fn answer(mut conn: Conn, registry: &Registry) {
    let request = loop {
        if let Some(r) = http::parse(conn.buffered()) {
            break r;
        }
        if conn.fill().await.is_err() {
            return;
        }
    };
    // /proc reads are file I/O: off the shard thread.
    let process = crate::storage::blocking::run(|| Ok(ProcessStats::read()))
        .await
        .unwrap_or_default();
    let response = http::respond(&request, || registry.render(&process));
    let _ = send_in_pieces(&mut conn, &response).await;
    conn.close().await;
}

/// Times the shard's auth requests (`tern_auth_request_duration_seconds`)
/// and counts login outcomes, whichever authenticator is underneath
/// (the auth helper's client or the in-process one).
pub struct TimedAuth(pub Rc<dyn Authenticator>);

impl Authenticator for TimedAuth {
    fn authenticate<'a>(&'a self, req: AuthRequest) -> LocalFuture<'a, AuthOutcome> {
        Box::pin(async move {
            let service: metrics::Service = req.service.into();
            let started = Instant::now();
            let outcome = self.0.authenticate(req).await;
            metrics::auth_request(AuthKind::Passdb, started.elapsed());
            let result = match &outcome {
                AuthOutcome::Ok { .. } => LoginResult::Ok,
                AuthOutcome::Failed { .. } => LoginResult::AuthFailed,
                AuthOutcome::TempFail { .. } => LoginResult::TempFail,
            };
            metrics::login(service, result);
            outcome
        })
    }

    fn lookup_user<'a>(&'a self, user: &'a str) -> LocalFuture<'a, UserLookup> {
        Box::pin(async move {
            let started = Instant::now();
            let found = self.0.lookup_user(user).await;
            metrics::auth_request(AuthKind::Userdb, started.elapsed());
            found
        })
    }
}
