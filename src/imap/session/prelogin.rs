//! The not-authenticated state without I/O: answers CAPABILITY, NOOP, ID,
//! LOGOUT, ENABLE and unknown commands, and decides whether STARTTLS,
//! LOGIN and AUTHENTICATE may go ahead. Carrying them out (the TLS
//! handshake, the password check, the SASL exchange, the handoff) is the
//! driver's ([`PreloginFlow`]).

use super::capability::{self, atoms};
use super::id;
use super::output::Output;
use crate::auth::sasl::Mechanism;
use crate::auth::secret::Secret;
use crate::imap::codec::response::{Data, ResponseCode, Status};
use crate::imap::codec::types::{Command, CommandBody, Tag};
use crate::shard::env::ProtocolSettings;

/// What the answers depend on, as the driver sees the connection.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub settings: &'a ProtocolSettings,
    pub session: &'a str,
    /// The client's address, for log lines.
    pub remote_ip: &'a str,
    /// The connection is encrypted.
    pub tls: bool,
    /// The connection counts as secure (TLS, or a trusted network).
    pub secured: bool,
    /// A certificate is configured, so STARTTLS could begin.
    pub certificate: bool,
}

impl Link<'_> {
    fn login_allowed(&self) -> bool {
        capability::login_allowed(self.settings, self.tls, self.secured)
    }

    /// The pre-login CAPABILITY list.
    pub fn capabilities(&self) -> String {
        capability::prelogin(
            self.settings,
            !self.tls && self.certificate,
            self.login_allowed(),
        )
    }
}

/// What the driver does after a pre-login command.
#[derive(Debug, PartialEq, Eq)]
pub enum PreloginFlow {
    Continue,
    /// LOGOUT answered: flush and close.
    Logout,
    /// STARTTLS accepted (its OK is in the output): flush, drop pipelined
    /// input, then the TLS handshake.
    StartTls,
    /// LOGIN allowed: check the password.
    Login {
        user: Vec<u8>,
        password: Secret,
    },
    /// AUTHENTICATE allowed: run the SASL exchange starting from the
    /// initial response (as sent: base64, `=` for empty).
    Authenticate {
        mechanism: Mechanism,
        initial: Option<Secret>,
    },
}

/// The pre-login session.
#[derive(Debug, Default)]
pub struct Prelogin {
    /// `imap_id_log`: the client's ID fields are logged once per connection.
    id_logged: bool,
}

impl Prelogin {
    /// The greeting: `* OK [CAPABILITY ...] greeting`.
    pub fn greet(&self, link: &Link<'_>, out: &mut impl Output) {
        out.status(
            None,
            Status::Ok,
            Some(ResponseCode::Capability(atoms(&link.capabilities()))),
            &link.settings.greeting,
        );
    }

    /// Runs one command; those whose row in the command table needs a
    /// login are refused.
    pub fn handle(
        &mut self,
        link: &Link<'_>,
        out: &mut impl Output,
        command: Command,
    ) -> PreloginFlow {
        let Command {
            tag, spec, body, ..
        } = command;
        let tag = &tag;
        if !spec.state.before_login() {
            let text = match body {
                CommandBody::Enable { .. } => "ENABLE is not allowed before login.",
                _ => NOT_BEFORE_LOGIN,
            };
            out.bad(Some(tag), text);
            return PreloginFlow::Continue;
        }
        match body {
            CommandBody::Capability => {
                out.data(&Data::Capability(atoms(&link.capabilities())));
                out.ok(
                    tag,
                    "Pre-login capabilities listed, post-login capabilities have more.",
                );
            }
            CommandBody::Noop => out.ok(tag, "NOOP completed."),
            CommandBody::Id { parameters } => {
                let options = &link.settings.imap_options;
                if !self.id_logged {
                    self.id_logged = true;
                    if let Some(text) = id::log_text(parameters.as_deref(), &options.id_log) {
                        tracing::info!(
                            session = link.session,
                            rip = %link.remote_ip,
                            "imap-login: ID sent: {text}"
                        );
                    }
                }
                out.data(&Data::Id(id::reply(&options.id_send)));
                out.ok(tag, "ID completed.");
            }
            CommandBody::Logout => {
                out.status(None, Status::Bye, None, "Logging out");
                out.ok(tag, "Logout completed.");
                return PreloginFlow::Logout;
            }
            CommandBody::StartTls => {
                if !(link.settings.tls_available && link.certificate && !link.tls) {
                    out.bad(Some(tag), "TLS is not available.");
                    return PreloginFlow::Continue;
                }
                out.ok(tag, "Begin TLS negotiation now.");
                return PreloginFlow::StartTls;
            }
            CommandBody::Login { username, password } => {
                if may_authenticate(link, out, tag) {
                    return PreloginFlow::Login {
                        user: username.into_bytes(),
                        password,
                    };
                }
            }
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => {
                if !may_authenticate(link, out, tag) {
                    return PreloginFlow::Continue;
                }
                let allowed = link
                    .settings
                    .auth_mechanisms
                    .iter()
                    .any(|m| mechanism.eq_ignore_case(m));
                let mech = Mechanism::from_name(mechanism.as_str()).filter(|m| m.is_plaintext());
                let (Some(mech), true) = (mech, allowed) else {
                    out.no(Some(tag), None, "Unsupported authentication mechanism.");
                    return PreloginFlow::Continue;
                };
                // The SASL layer takes the token as sent.
                let initial = initial_response.map(|r| {
                    let bytes = r.0;
                    let mut t = Vec::new();
                    if bytes.is_empty() {
                        t.push(b'=');
                    } else {
                        crate::imap::codec::base64::encode(bytes.expose(), &mut t);
                    }
                    Secret::from(t)
                });
                return PreloginFlow::Authenticate {
                    mechanism: mech,
                    initial,
                };
            }
            _ => out.bad(Some(tag), NOT_BEFORE_LOGIN),
        }
        PreloginFlow::Continue
    }
}

const NOT_BEFORE_LOGIN: &str =
    "Error in IMAP command: Unknown command or not allowed before login.";

/// LOGINDISABLED / PRIVACYREQUIRED rules; answers NO when refused.
fn may_authenticate(link: &Link<'_>, out: &mut impl Output, tag: &Tag) -> bool {
    if link.settings.tls_required && !link.tls {
        out.no(
            Some(tag),
            Some(ResponseCode::PrivacyRequired),
            "TLS is required.",
        );
        return false;
    }
    if !link.login_allowed() {
        out.no(
            Some(tag),
            Some(ResponseCode::PrivacyRequired),
            "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
        );
        return false;
    }
    true
}

#[cfg(test)]
#[path = "prelogin_tests.rs"]
mod tests;
