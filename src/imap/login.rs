//! The IMAP front end: greeting, CAPABILITY, STARTTLS, LOGIN/AUTHENTICATE
//! on whichever shard accepted the connection, then the handoff to the
//! user's owner shard. After login only CAPABILITY, NOOP and LOGOUT are
//! served so far; the full command set arrives with the IMAP issue.

use std::rc::Rc;

use crate::net::Conn;
use crate::shard::env::{AuthOutcome, AuthRequest, Env, Handoff, Input, Protocol, Secret};

/// The session state that travels with a connection to the owner shard.
#[derive(Debug)]
pub struct ImapHandoff {
    pub session: String,
    pub user: String,
    /// Tag of the LOGIN/AUTHENTICATE command, answered by the owner shard
    /// once the user's mail store is ready there.
    pub tag: String,
}

fn preauth_capability(env: &Env, conn: &Conn) -> String {
    let s = &env.settings.imap;
    let mut caps =
        String::from("IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+");
    if s.tls_available && !conn.is_tls() && env.tls().is_some() {
        caps.push_str(" STARTTLS");
    }
    let secured = env.is_secured(Protocol::Imap, conn.is_tls(), &conn.peer);
    if (s.disable_plaintext_auth && !secured) || (s.tls_required && !conn.is_tls()) {
        caps.push_str(" LOGINDISABLED");
    } else {
        for m in &s.auth_mechanisms {
            caps.push_str(" AUTH=");
            caps.push_str(&m.to_ascii_uppercase());
        }
    }
    caps
}

const AUTHED_CAPABILITY: &str = "IMAP4rev1 IMAP4rev2 ID ENABLE LITERAL+";

/// One parsed argument of a command line.
enum Arg {
    Atom(String),
    Str(Vec<u8>),
}

impl Arg {
    fn bytes(&self) -> &[u8] {
        match self {
            Arg::Atom(a) => a.as_bytes(),
            Arg::Str(s) => s,
        }
    }
}

/// Splits `tag command args…` with atoms, quoted strings and literals
/// (synchronising literals get a `+ OK` continuation). Just enough for the
/// login phase; the IMAP issue brings the full codec.
async fn read_command(
    env: &Env,
    conn: &mut Conn,
    max: usize,
) -> Result<(String, String, Vec<Arg>), Option<Input>> {
    let mut line = match env.next_line(conn, max).await {
        Input::Line(l) => l,
        other => return Err(Some(other)),
    };
    let mut args = Vec::new();
    let mut total = line.len();
    loop {
        let mut pos = 0;
        let mut literal: Option<(usize, bool)> = None;
        while pos < line.len() {
            match line[pos] {
                b' ' => pos += 1,
                b'"' => {
                    let mut s = Vec::new();
                    pos += 1;
                    while pos < line.len() && line[pos] != b'"' {
                        if line[pos] == b'\\' && pos + 1 < line.len() {
                            pos += 1;
                        }
                        s.push(line[pos]);
                        pos += 1;
                    }
                    pos += 1;
                    args.push(Arg::Str(s));
                }
                b'{' if line.ends_with(b"}") => {
                    let inner = &line[pos + 1..line.len() - 1];
                    let (digits, plus) = match inner.strip_suffix(b"+") {
                        Some(d) => (d, true),
                        None => (inner, false),
                    };
                    let n = std::str::from_utf8(digits)
                        .ok()
                        .and_then(|d| d.parse::<usize>().ok());
                    match n {
                        Some(n) if total + n <= max => literal = Some((n, plus)),
                        _ => return Err(None),
                    }
                    pos = line.len();
                }
                _ => {
                    let start = pos;
                    while pos < line.len() && line[pos] != b' ' {
                        pos += 1;
                    }
                    args.push(Arg::Atom(
                        String::from_utf8_lossy(&line[start..pos]).into_owned(),
                    ));
                }
            }
        }
        let Some((n, plus)) = literal else { break };
        if !plus {
            let _ = conn.write_all(b"+ OK\r\n").await;
        }
        while conn.buffered().len() < n {
            if conn.fill().await.is_err() {
                return Err(Some(Input::Closed));
            }
        }
        args.push(Arg::Str(conn.buffered()[..n].to_vec()));
        conn.consume(n);
        total += n;
        line = match conn.read_line(max).await {
            Ok(l) => l,
            Err(_) => return Err(Some(Input::Closed)),
        };
        total += line.len();
    }
    if args.len() < 2 {
        let tag = args
            .first()
            .map(|a| String::from_utf8_lossy(a.bytes()).into_owned())
            .unwrap_or_else(|| "*".into());
        return Ok((tag, String::new(), Vec::new()));
    }
    let rest = args.split_off(2);
    let cmd = String::from_utf8_lossy(args[1].bytes()).to_ascii_uppercase();
    let tag = String::from_utf8_lossy(args[0].bytes()).into_owned();
    Ok((tag, cmd, rest))
}

async fn send(conn: &mut Conn, text: &str) -> bool {
    conn.write_all(text.as_bytes()).await.is_ok()
}

/// Serves a freshly accepted (and, for imaps, TLS-established) connection.
pub async fn serve(mut conn: Conn, env: Rc<Env>) {
    let session = env.new_session_id();
    let s = env.settings.imap.clone();
    conn.set_idle_timeout(s.idle_timeout_preauth);
    let greeting = format!(
        "* OK [CAPABILITY {}] {}\r\n",
        preauth_capability(&env, &conn),
        s.greeting
    );
    if !send(&mut conn, &greeting).await {
        return;
    }
    loop {
        let (tag, cmd, args) = match read_command(&env, &mut conn, s.max_line_length).await {
            Ok(c) => c,
            Err(None) => {
                if !send(
                    &mut conn,
                    "* BAD Command line too long or malformed literal\r\n",
                )
                .await
                {
                    return;
                }
                continue;
            }
            Err(Some(Input::TooLong)) => {
                if !send(&mut conn, "* BAD Command line too long\r\n").await {
                    return;
                }
                continue;
            }
            Err(Some(Input::Shutdown)) => {
                send(&mut conn, "* BYE Server shutting down.\r\n").await;
                conn.close().await;
                return;
            }
            Err(Some(Input::Timeout)) => {
                send(&mut conn, "* BYE Disconnected for inactivity.\r\n").await;
                conn.close().await;
                return;
            }
            Err(Some(_)) => return,
        };
        let secured = env.is_secured(Protocol::Imap, conn.is_tls(), &conn.peer);
        match cmd.as_str() {
            "" => {
                send(
                    &mut conn,
                    &format!("{tag} BAD Error in IMAP command: missing command\r\n"),
                )
                .await;
            }
            "CAPABILITY" => {
                let c = format!(
                    "* CAPABILITY {}\r\n{tag} OK Pre-login capabilities listed, post-login capabilities have more.\r\n",
                    preauth_capability(&env, &conn)
                );
                send(&mut conn, &c).await;
            }
            "NOOP" => {
                send(&mut conn, &format!("{tag} OK NOOP completed.\r\n")).await;
            }
            "ID" => {
                send(
                    &mut conn,
                    &format!("* ID (\"name\" \"tern\")\r\n{tag} OK ID completed.\r\n"),
                )
                .await;
            }
            "LOGOUT" => {
                send(
                    &mut conn,
                    &format!("* BYE Logging out\r\n{tag} OK Logout completed.\r\n"),
                )
                .await;
                conn.close().await;
                return;
            }
            "STARTTLS" => {
                let Some(cfg) = env.tls().filter(|_| s.tls_available && !conn.is_tls()) else {
                    send(&mut conn, &format!("{tag} BAD TLS is not available.\r\n")).await;
                    continue;
                };
                if !send(
                    &mut conn,
                    &format!("{tag} OK Begin TLS negotiation now.\r\n"),
                )
                .await
                {
                    return;
                }
                if let Err(e) = conn.start_tls(cfg).await {
                    tracing::info!(session, rip = %conn.peer.remote_ip(), "imap-login: TLS handshake failed: {e}");
                    return;
                }
            }
            "LOGIN" | "AUTHENTICATE" => {
                if s.tls_required && !conn.is_tls() {
                    send(
                        &mut conn,
                        &format!("{tag} NO [PRIVACYREQUIRED] TLS is required.\r\n"),
                    )
                    .await;
                    continue;
                }
                if s.disable_plaintext_auth && !secured {
                    send(
                        &mut conn,
                        &format!("{tag} NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"),
                    )
                    .await;
                    continue;
                }
                let creds = if cmd == "LOGIN" {
                    match args.as_slice() {
                        [u, p] => Some((u.bytes().to_vec(), p.bytes().to_vec(), "LOGIN")),
                        _ => None,
                    }
                } else {
                    sasl_plain(&mut conn, &env, &tag, &args, s.max_line_length).await
                };
                let Some((user, password, mech)) = creds else {
                    send(&mut conn, &format!("{tag} BAD Invalid arguments.\r\n")).await;
                    continue;
                };
                let req = AuthRequest {
                    service: Protocol::Imap,
                    user: String::from_utf8_lossy(&user).into_owned(),
                    password: Secret(password),
                    remote_ip: conn.peer.remote.map(|a| a.ip()),
                    local_ip: conn.peer.local.map(|a| a.ip()),
                    secured,
                    mechanism: mech,
                };
                match env.auth.authenticate(req).await {
                    AuthOutcome::Ok { user } => {
                        tracing::info!(
                            session, user, method = mech, rip = %conn.peer.remote_ip(), shard = env.shard,
                            tls = conn.is_tls(), "imap-login: Login"
                        );
                        let state = ImapHandoff { session, user, tag };
                        let owner = env.owner_of(&state.user);
                        if owner == env.shard {
                            authed(conn, state, env).await;
                            return;
                        }
                        let parts = match conn.into_parts().await {
                            Ok(p) => p,
                            Err(e) => {
                                tracing::warn!("imap-login: handoff failed: {e}");
                                return;
                            }
                        };
                        let h = Handoff {
                            protocol: Protocol::Imap,
                            conn: parts,
                            state: Box::new(state),
                        };
                        tracing::debug!(
                            from = env.shard,
                            to = owner,
                            "imap-login: handed off to the owner shard"
                        );
                        if !env.handoff(owner, h).await {
                            tracing::warn!("imap-login: owner shard {owner} unreachable");
                        }
                        return;
                    }
                    AuthOutcome::Failed { reason } => {
                        tracing::info!(session, rip = %conn.peer.remote_ip(), "imap-login: Authentication failed: {reason}");
                        send(
                            &mut conn,
                            &format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                        )
                        .await;
                    }
                    AuthOutcome::TempFail { reason } => {
                        tracing::warn!(session, "imap-login: auth temporary failure: {reason}");
                        send(
                            &mut conn,
                            &format!(
                                "{tag} NO [UNAVAILABLE] Temporary authentication failure.\r\n"
                            ),
                        )
                        .await;
                    }
                }
            }
            _ => {
                send(&mut conn, &format!("{tag} BAD Error in IMAP command {cmd}: Unknown command or not allowed before login.\r\n")).await;
            }
        }
    }
}

/// AUTHENTICATE PLAIN / LOGIN with or without an initial response.
async fn sasl_plain(
    conn: &mut Conn,
    env: &Env,
    _tag: &str,
    args: &[Arg],
    max: usize,
) -> Option<(Vec<u8>, Vec<u8>, &'static str)> {
    let mech = String::from_utf8_lossy(args.first()?.bytes()).to_ascii_uppercase();
    match mech.as_str() {
        "PLAIN" => {
            let data = match args.get(1) {
                Some(ir) if ir.bytes() == b"=" => Vec::new(),
                Some(ir) => b64(ir.bytes())?,
                None => sasl_step(conn, env, "", max).await?,
            };
            let mut it = data.split(|&b| b == 0);
            let _authz = it.next()?;
            let user = it.next()?.to_vec();
            let pass = it.next()?.to_vec();
            Some((user, pass, "PLAIN"))
        }
        "LOGIN" => {
            let user = match args.get(1) {
                Some(ir) => b64(ir.bytes())?,
                None => sasl_step(conn, env, "VXNlcm5hbWU6", max).await?,
            };
            let pass = sasl_step(conn, env, "UGFzc3dvcmQ6", max).await?;
            Some((user, pass, "LOGIN"))
        }
        _ => None,
    }
}

/// Sends a SASL challenge and reads the client's base64 answer (`*` aborts).
async fn sasl_step(conn: &mut Conn, env: &Env, prompt: &str, max: usize) -> Option<Vec<u8>> {
    conn.write_all(format!("+ {prompt}\r\n").as_bytes())
        .await
        .ok()?;
    match env.next_line(conn, max).await {
        Input::Line(l) if l != b"*" => b64(&l),
        _ => None,
    }
}

/// Continues a handed-off connection on the owner shard.
pub async fn resume(conn: Conn, state: ImapHandoff, env: Rc<Env>) {
    authed(conn, state, env).await
}

async fn authed(mut conn: Conn, state: ImapHandoff, env: Rc<Env>) {
    let s = env.settings.imap.clone();
    conn.set_idle_timeout(s.idle_timeout_authed);
    let ok = format!(
        "{} OK [CAPABILITY {AUTHED_CAPABILITY}] Logged in\r\n",
        state.tag
    );
    if !send(&mut conn, &ok).await {
        return;
    }
    loop {
        let (tag, cmd, _args) = match read_command(&env, &mut conn, s.max_line_length).await {
            Ok(c) => c,
            Err(None) | Err(Some(Input::TooLong)) => {
                if !send(&mut conn, "* BAD Command line too long\r\n").await {
                    return;
                }
                continue;
            }
            Err(Some(Input::Shutdown)) => {
                send(&mut conn, "* BYE Server shutting down.\r\n").await;
                conn.close().await;
                return;
            }
            Err(Some(Input::Timeout)) => {
                send(&mut conn, "* BYE Disconnected for inactivity.\r\n").await;
                conn.close().await;
                return;
            }
            Err(Some(_)) => {
                tracing::info!(
                    session = state.session,
                    user = state.user,
                    "imap: Disconnected"
                );
                return;
            }
        };
        let reply = match cmd.as_str() {
            "CAPABILITY" => {
                format!("* CAPABILITY {AUTHED_CAPABILITY}\r\n{tag} OK Capability completed.\r\n")
            }
            "NOOP" => format!("{tag} OK NOOP completed.\r\n"),
            "ID" => format!("* ID (\"name\" \"tern\")\r\n{tag} OK ID completed.\r\n"),
            "LOGOUT" => {
                send(
                    &mut conn,
                    &format!("* BYE Logging out\r\n{tag} OK Logout completed.\r\n"),
                )
                .await;
                tracing::info!(
                    session = state.session,
                    user = state.user,
                    shard = env.shard,
                    "imap: Logged out"
                );
                conn.close().await;
                return;
            }
            "" => format!("{tag} BAD Error in IMAP command: missing command\r\n"),
            _ => format!("{tag} NO [UNAVAILABLE] {cmd} is not available yet.\r\n"),
        };
        if !send(&mut conn, &reply).await {
            return;
        }
    }
}

fn b64(data: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}
