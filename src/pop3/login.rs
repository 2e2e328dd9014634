//! The POP3 front end: greeting, CAPA, STLS, USER/PASS and AUTH PLAIN on the
//! accepting shard, then the handoff to the owner shard. The maildrop
//! commands arrive with the POP3 issue; until then a logged-in session sees
//! an empty maildrop.

use std::rc::Rc;

use crate::net::Conn;
use crate::shard::env::{AuthOutcome, AuthRequest, Env, Handoff, Input, Protocol, Secret};

#[derive(Debug)]
pub struct Pop3Handoff {
    pub session: String,
    pub user: String,
}

async fn send(conn: &mut Conn, text: &str) -> bool {
    conn.write_all(text.as_bytes()).await.is_ok()
}

fn plaintext_allowed(env: &Env, conn: &Conn) -> bool {
    let s = &env.settings.pop3;
    if s.tls_required && !conn.is_tls() {
        return false;
    }
    !s.disable_plaintext_auth || env.is_secured(Protocol::Pop3, conn.is_tls(), &conn.peer)
}

fn capa(env: &Env, conn: &Conn) -> String {
    let s = &env.settings.pop3;
    let mut c = String::from(
        "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n",
    );
    if plaintext_allowed(env, conn) {
        c.push_str("USER\r\nSASL");
        for m in &s.auth_mechanisms {
            c.push(' ');
            c.push_str(&m.to_ascii_uppercase());
        }
        c.push_str("\r\n");
    }
    if s.tls_available && !conn.is_tls() && env.tls().is_some() {
        c.push_str("STLS\r\n");
    }
    c.push_str(".\r\n");
    c
}

fn b64(data: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

pub async fn serve(mut conn: Conn, env: Rc<Env>) {
    let session = env.new_session_id();
    let s = env.settings.pop3.clone();
    conn.set_idle_timeout(s.idle_timeout_preauth);
    if !send(&mut conn, &format!("+OK {}\r\n", s.greeting)).await {
        return;
    }
    let mut user: Option<String> = None;
    loop {
        let line = match env.next_line(&mut conn, s.max_line_length).await {
            Input::Line(l) => l,
            Input::TooLong => {
                if !send(&mut conn, "-ERR Input line too long.\r\n").await {
                    return;
                }
                continue;
            }
            Input::Shutdown => {
                send(&mut conn, "-ERR [SYS/TEMP] Server shutting down.\r\n").await;
                conn.close().await;
                return;
            }
            Input::Timeout => {
                send(&mut conn, "-ERR Disconnected for inactivity.\r\n").await;
                conn.close().await;
                return;
            }
            _ => return,
        };
        let text = String::from_utf8_lossy(&line).into_owned();
        let (cmd, arg) = match text.split_once(' ') {
            Some((c, a)) => (c.to_ascii_uppercase(), a.to_string()),
            None => (text.to_ascii_uppercase(), String::new()),
        };
        let creds: Option<(String, Vec<u8>, &'static str)> = match cmd.as_str() {
            "CAPA" => {
                let c = capa(&env, &conn);
                send(&mut conn, &c).await;
                None
            }
            "NOOP" => {
                send(&mut conn, "+OK\r\n").await;
                None
            }
            "QUIT" => {
                send(&mut conn, "+OK Logging out\r\n").await;
                conn.close().await;
                return;
            }
            "STLS" => {
                let Some(cfg) = env.tls().filter(|_| s.tls_available && !conn.is_tls()) else {
                    send(&mut conn, "-ERR TLS is not available.\r\n").await;
                    continue;
                };
                if !send(&mut conn, "+OK Begin TLS negotiation now.\r\n").await {
                    return;
                }
                if let Err(e) = conn.start_tls(cfg).await {
                    tracing::info!(session, rip = %conn.peer.remote_ip(), "pop3-login: TLS handshake failed: {e}");
                    return;
                }
                user = None;
                None
            }
            "USER" => {
                if !plaintext_allowed(&env, &conn) {
                    send(&mut conn, "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n").await;
                } else if arg.is_empty() {
                    send(&mut conn, "-ERR Missing user name.\r\n").await;
                } else {
                    user = Some(arg);
                    send(&mut conn, "+OK\r\n").await;
                }
                None
            }
            "PASS" => match user.take() {
                Some(u) if plaintext_allowed(&env, &conn) => Some((u, arg.into_bytes(), "PLAIN")),
                _ => {
                    send(&mut conn, "-ERR No USER given.\r\n").await;
                    None
                }
            },
            "AUTH" => {
                if !plaintext_allowed(&env, &conn) {
                    send(&mut conn, "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n").await;
                    None
                } else {
                    let (mech, ir) = match arg.split_once(' ') {
                        Some((m, i)) => (m.to_ascii_uppercase(), Some(i.to_string())),
                        None => (arg.to_ascii_uppercase(), None),
                    };
                    if mech != "PLAIN" {
                        send(&mut conn, "-ERR Unsupported authentication mechanism.\r\n").await;
                        None
                    } else {
                        let data = match ir {
                            Some(i) if i == "=" => Some(Vec::new()),
                            Some(i) => b64(i.as_bytes()),
                            None => {
                                send(&mut conn, "+ \r\n").await;
                                match env.next_line(&mut conn, s.max_line_length).await {
                                    Input::Line(l) if l != b"*" => b64(&l),
                                    _ => None,
                                }
                            }
                        };
                        let parsed = data.and_then(|d| {
                            let mut it = d.split(|&b| b == 0);
                            let _authz = it.next()?;
                            let u = String::from_utf8_lossy(it.next()?).into_owned();
                            let p = it.next()?.to_vec();
                            Some((u, p, "PLAIN"))
                        });
                        if parsed.is_none() {
                            send(&mut conn, "-ERR Authentication aborted or malformed.\r\n").await;
                        }
                        parsed
                    }
                }
            }
            _ => {
                send(&mut conn, "-ERR Unknown command.\r\n").await;
                None
            }
        };
        let Some((u, password, mech)) = creds else {
            continue;
        };
        let req = AuthRequest {
            service: Protocol::Pop3,
            user: u,
            password: Secret(password),
            remote_ip: conn.peer.remote.map(|a| a.ip()),
            local_ip: conn.peer.local.map(|a| a.ip()),
            secured: env.is_secured(Protocol::Pop3, conn.is_tls(), &conn.peer),
            mechanism: mech,
        };
        match env.auth.authenticate(req).await {
            AuthOutcome::Ok { user } => {
                tracing::info!(session, user, method = mech, rip = %conn.peer.remote_ip(), shard = env.shard, "pop3-login: Login");
                let state = Pop3Handoff { session, user };
                let owner = env.owner_of(&state.user);
                if owner == env.shard {
                    authed(conn, state, env).await;
                    return;
                }
                let parts = match conn.into_parts().await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!("pop3-login: handoff failed: {e}");
                        return;
                    }
                };
                let h = Handoff {
                    protocol: Protocol::Pop3,
                    conn: parts,
                    state: Box::new(state),
                };
                tracing::debug!(
                    from = env.shard,
                    to = owner,
                    "pop3-login: handed off to the owner shard"
                );
                if !env.handoff(owner, h).await {
                    tracing::warn!("pop3-login: owner shard {owner} unreachable");
                }
                return;
            }
            AuthOutcome::Failed { reason } => {
                tracing::info!(session, rip = %conn.peer.remote_ip(), "pop3-login: Authentication failed: {reason}");
                send(&mut conn, "-ERR [AUTH] Authentication failed.\r\n").await;
            }
            AuthOutcome::TempFail { reason } => {
                tracing::warn!(session, "pop3-login: auth temporary failure: {reason}");
                send(
                    &mut conn,
                    "-ERR [SYS/TEMP] Temporary authentication failure.\r\n",
                )
                .await;
            }
        }
    }
}

pub async fn resume(conn: Conn, state: Pop3Handoff, env: Rc<Env>) {
    authed(conn, state, env).await
}

async fn authed(mut conn: Conn, state: Pop3Handoff, env: Rc<Env>) {
    let s = env.settings.pop3.clone();
    conn.set_idle_timeout(s.idle_timeout_authed);
    if !send(&mut conn, "+OK Logged in.\r\n").await {
        return;
    }
    loop {
        let line = match env.next_line(&mut conn, s.max_line_length).await {
            Input::Line(l) => l,
            Input::TooLong => {
                if !send(&mut conn, "-ERR Input line too long.\r\n").await {
                    return;
                }
                continue;
            }
            Input::Shutdown => {
                send(&mut conn, "-ERR [SYS/TEMP] Server shutting down.\r\n").await;
                conn.close().await;
                return;
            }
            _ => return,
        };
        let cmd = String::from_utf8_lossy(&line)
            .split(' ')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply = match cmd.as_str() {
            "NOOP" => "+OK\r\n".to_string(),
            "STAT" => "+OK 0 0\r\n".to_string(),
            "LIST" | "UIDL" => "+OK 0 messages\r\n.\r\n".to_string(),
            "CAPA" => capa(&env, &conn),
            "QUIT" => {
                send(&mut conn, "+OK Logging out.\r\n").await;
                tracing::info!(
                    session = state.session,
                    user = state.user,
                    shard = env.shard,
                    "pop3: Disconnected: Logged out"
                );
                conn.close().await;
                return;
            }
            _ => "-ERR Unknown command.\r\n".to_string(),
        };
        if !send(&mut conn, &reply).await {
            return;
        }
    }
}
