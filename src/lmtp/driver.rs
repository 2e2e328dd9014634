//! The LMTP connection driver (inet and unix socket): feeds socket bytes to
//! [`LmtpSession`], resolves each RCPT through the userdb, spools the DATA
//! body once, and runs one delivery per recipient on that recipient's owner
//! shard, replying per recipient in RCPT order (RFC 2033 §4.2). A `250` is
//! only written after the owner shard reported the append durable.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::codec_path::SmtpAddress;
use super::driver_deliver::{DeliveryJob, deliver_on_owner};
use super::session::{
    AcceptedRecipient, DeliveryOutcome, LmtpAction, LmtpSession, LmtpSessionOptions,
    RecipientVerdict, TraceInfo,
};
use crate::net::Conn;
use crate::net::driver_io::{Arrival, fill_unless_shutdown, send_in_pieces};
use crate::shard::env::{Env, UserInfo, UserLookup};

/// The body cap when `lmtp_max_size = 0`: the spool lives in memory, so
/// "unlimited" still needs a ceiling.
const HARD_MAX_MESSAGE_SIZE: u64 = 1 << 30;

/// Serves one LMTP connection until QUIT, EOF, timeout or shutdown.
pub async fn serve(mut conn: Conn, env: Rc<Env>) {
    let s = &env.settings.lmtp;
    conn.set_idle_timeout(s.idle_timeout_authed);
    let limit = match s.lmtp_max_size {
        0 => HARD_MAX_MESSAGE_SIZE,
        n => n.min(HARD_MAX_MESSAGE_SIZE),
    };
    let options = LmtpSessionOptions {
        max_line: s.max_line_length,
        max_message_size: Some(limit),
        hostname: s.hostname.clone(),
        recipient_delimiter: s.recipient_delimiter.clone(),
        tls_available: s.tls_available && env.tls().is_some() && !conn.is_tls(),
        remote_ip: conn.peer.remote.map(|a| a.ip()),
        ..LmtpSessionOptions::default()
    };
    let mut out = Vec::new();
    let session = LmtpSession::new(options, &s.greeting, &mut out);
    let driver = Driver {
        session_id: env.new_session_id(),
        env,
        conn,
        session,
        out,
        body: Vec::new(),
        users: HashMap::new(),
        transactions: 0,
    };
    driver.run().await;
}

struct Driver {
    env: Rc<Env>,
    conn: Conn,
    session: LmtpSession,
    session_id: String,
    out: Vec<u8>,
    /// The DATA body of the current transaction (bounded by the size limit:
    /// the decoder stops appending past it).
    body: Vec<u8>,
    /// userdb answers of accepted RCPTs, by canonical user name.
    users: HashMap<String, UserInfo>,
    transactions: u64,
}

impl Driver {
    async fn run(mut self) {
        loop {
            if !self.out.is_empty() {
                if send_in_pieces(&mut self.conn, &self.out).await.is_err() {
                    return;
                }
                self.out.clear();
            }
            if self.session.is_closed() {
                self.conn.close().await;
                return;
            }
            let (used, action) =
                self.session
                    .receive(self.conn.buffered(), &mut self.out, &mut self.body);
            self.conn.consume(used);
            if let Some(action) = action {
                if !self.act(action).await {
                    return;
                }
                continue;
            }
            if !self.out.is_empty() {
                continue;
            }
            let goodbye = match fill_unless_shutdown(&mut self.conn, self.env.shutdown.wait()).await
            {
                Arrival::Data => continue,
                Arrival::Closed => return,
                Arrival::Shutdown => "421 4.3.2 Server shutting down\r\n",
                Arrival::Timeout => "421 4.4.2 Disconnected for inactivity\r\n",
            };
            let _ = self.conn.write_all(goodbye.as_bytes()).await;
            self.conn.close().await;
            return;
        }
    }

    /// Carries out one action; false when the connection is finished.
    async fn act(&mut self, action: LmtpAction) -> bool {
        match action {
            LmtpAction::ResolveRecipient { user, .. } => {
                let verdict = self.resolve(&user).await;
                self.session.recipient_resolved(verdict, &mut self.out);
            }
            LmtpAction::Deliver { recipients, .. } => self.deliver(recipients).await,
            LmtpAction::DiscardBody => self.body = Vec::new(),
            LmtpAction::StartTls => {
                let Some(cfg) = self.env.tls() else {
                    return false;
                };
                if send_in_pieces(&mut self.conn, &self.out).await.is_err() {
                    return false;
                }
                self.out.clear();
                if let Err(e) = self.conn.start_tls(cfg).await {
                    tracing::info!(session = self.session_id, "lmtp: TLS handshake failed: {e}");
                    return false;
                }
                self.session.tls_established();
            }
            LmtpAction::Close => {}
        }
        true
    }

    /// userdb lookup for `RCPT TO` (detail already removed), through
    /// `auth_username_format` (e.g. `%Ln` when the userdb has bare names).
    async fn resolve(&mut self, user: &SmtpAddress) -> RecipientVerdict {
        let name = lookup_name(&self.env.settings.lmtp.username_format, user);
        match self.env.auth.lookup_user(&name).await {
            UserLookup::Found(info) => {
                let user = info.user.clone();
                self.users.insert(user.clone(), info);
                RecipientVerdict::Accepted { user }
            }
            UserLookup::NotFound => {
                tracing::info!(session = self.session_id, "lmtp: unknown user {name}");
                RecipientVerdict::UnknownUser
            }
            UserLookup::TempFail(reason) => {
                tracing::warn!(
                    session = self.session_id,
                    "lmtp: userdb failed for {name}: {reason}"
                );
                RecipientVerdict::TemporaryFailure
            }
        }
    }

    async fn deliver(&mut self, recipients: Vec<AcceptedRecipient>) {
        self.transactions += 1;
        let transaction_id = format!("{}t{}", self.session_id, self.transactions);
        let body: Arc<[u8]> = Arc::from(std::mem::take(&mut self.body));
        let tls = self.conn.tls_description();
        let unix_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let trace = TraceInfo {
            transaction_id: &transaction_id,
            tls: tls.as_deref(),
            unix_time,
            utc_offset_minutes: 0,
        };
        let s = &self.env.settings.lmtp;
        // Start every delivery before awaiting any: recipients on other
        // shards are saved in parallel.
        let mut pending = Vec::with_capacity(recipients.len());
        for recipient in &recipients {
            let Some(info) = self.users.get(&recipient.user).cloned() else {
                pending.push(None);
                continue;
            };
            let headers = self
                .session
                .trace_headers_for(&recipient.address, &trace, s.lmtp_add_received_header)
                .unwrap_or_default();
            let folder = recipient
                .detail
                .clone()
                .filter(|d| s.lmtp_save_to_detail_mailbox && !d.is_empty());
            let job = DeliveryJob {
                info,
                address: recipient.address.clone(),
                folder,
                autocreate: s.lda_mailbox_autocreate,
                headers,
                body: body.clone(),
            };
            pending.push(Some(glommio::spawn_local(deliver_on_owner(
                self.env.clone(),
                job,
            ))));
        }
        let mut outcomes = Vec::with_capacity(pending.len());
        for task in pending {
            outcomes.push(match task {
                Some(task) => task.await,
                None => DeliveryOutcome::TemporaryFailure,
            });
        }
        self.session
            .delivery_finished(&transaction_id, &outcomes, &mut self.out);
        self.users.clear();
    }
}

/// The userdb key for an address: `auth_username_format` applied to
/// `local@domain`; the address itself if the format cannot be applied.
fn lookup_name(format: &str, user: &SmtpAddress) -> String {
    let address = user.encode();
    if format.is_empty() {
        return address;
    }
    crate::auth::username::format_username(format, &address).unwrap_or(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_names_follow_the_username_format() {
        let address = SmtpAddress::new("Alice", Some("Example.COM")).unwrap();
        assert_eq!(lookup_name("%Lu", &address), "alice@example.com");
        assert_eq!(lookup_name("%Ln", &address), "alice");
        assert_eq!(lookup_name("", &address), "Alice@Example.COM");
        let bare = SmtpAddress::new("postmaster", None).unwrap();
        assert_eq!(lookup_name("%Ln", &bare), "postmaster");
    }
}
