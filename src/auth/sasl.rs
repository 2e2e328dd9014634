//! Server side of the SASL mechanisms PLAIN (RFC 4616) and LOGIN, sans-io.
//!
//! The caller (IMAP `AUTHENTICATE`, POP3 `AUTH`) passes the client's lines
//! as they came off the wire (base64, `=` for an empty initial response,
//! `*` to cancel) and sends each `Challenge` as `+ <text>`. The result is a
//! set of credentials to check against the passdb; this module never
//! decides whether they are right.

use super::encoding::{base64_decode, base64_encode};
use super::secret::Secret;

/// Longest client response accepted, in base64 characters. PLAIN carries
/// two names and a password; anything near this is an attack.
pub const MAX_RESPONSE_LEN: usize = 8 * 1024;

/// Largest decoded user name (authcid or authzid).
const MAX_NAME_LEN: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    Plain,
    Login,
}

impl Mechanism {
    /// The IANA name, as in `AUTH=PLAIN`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }

    /// Case-insensitive lookup; `None` for a mechanism we do not offer.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        [Mechanism::Plain, Mechanism::Login]
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// Sends the password in the clear, so `disable_plaintext_auth` hides it
    /// on unsecured connections.
    pub fn is_plaintext(self) -> bool {
        true
    }
}

/// What the client proved it knows. `Debug` hides the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Identity to act as; `None` when empty or the same as `authcid`
    /// cannot be assumed here (the caller decides, e.g. master users).
    pub authzid: Option<String>,
    /// The login name as the client typed it (not yet checked or formatted).
    pub authcid: String,
    pub password: Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    #[error("authentication cancelled by the client")]
    Cancelled,
    #[error("invalid base64 data")]
    BadBase64,
    #[error("response too long")]
    TooLong,
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    #[error("user name is not valid UTF-8")]
    NotUtf8,
    #[error("the exchange has already finished")]
    Finished,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslStep {
    /// Send `+ ` followed by this text (already base64) and wait for a line.
    Challenge(String),
    /// The exchange is over: check these against the passdb.
    Done(Credentials),
    /// The exchange is over and failed (`BAD`/`NO` in IMAP, `-ERR` in POP3).
    Failed(SaslError),
}

const LOGIN_USERNAME: &[u8] = b"Username:";
const LOGIN_PASSWORD: &[u8] = b"Password:";

#[derive(Debug)]
enum State {
    PlainWaiting,
    LoginUser,
    LoginPassword { user: String },
    Finished,
}

/// One SASL exchange.
#[derive(Debug)]
pub struct SaslServer {
    mechanism: Mechanism,
    state: State,
}

impl SaslServer {
    /// Starts an exchange. `initial_response` is the SASL-IR token as sent
    /// (`=` for empty), or `None` when the client sent none.
    pub fn start(mechanism: Mechanism, initial_response: Option<&[u8]>) -> (SaslServer, SaslStep) {
        let mut server = SaslServer {
            mechanism,
            state: match mechanism {
                Mechanism::Plain => State::PlainWaiting,
                Mechanism::Login => State::LoginUser,
            },
        };
        let step = match initial_response {
            Some(token) => server.step(token),
            None => server.first_challenge(),
        };
        (server, step)
    }

    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// Feeds one client line (without or with its CRLF).
    pub fn step(&mut self, client_line: &[u8]) -> SaslStep {
        let state = std::mem::replace(&mut self.state, State::Finished);
        if matches!(state, State::Finished) {
            return SaslStep::Failed(SaslError::Finished);
        }
        let decoded = match decode_response(client_line) {
            Ok(bytes) => bytes,
            Err(e) => return SaslStep::Failed(e),
        };
        match state {
            State::PlainWaiting => match parse_plain(&decoded) {
                Ok(credentials) => SaslStep::Done(credentials),
                Err(e) => SaslStep::Failed(e),
            },
            State::LoginUser if decoded.is_empty() => {
                // LOGIN with an empty initial response: ask for the name.
                self.state = State::LoginUser;
                self.first_challenge()
            }
            State::LoginUser => match name_from(decoded.expose()) {
                Ok(user) => {
                    self.state = State::LoginPassword { user };
                    SaslStep::Challenge(base64_encode(LOGIN_PASSWORD))
                }
                Err(e) => SaslStep::Failed(e),
            },
            State::LoginPassword { user } => SaslStep::Done(Credentials {
                authzid: None,
                authcid: user,
                password: decoded,
            }),
            State::Finished => SaslStep::Failed(SaslError::Finished),
        }
    }

    fn first_challenge(&self) -> SaslStep {
        match self.mechanism {
            Mechanism::Plain => SaslStep::Challenge(String::new()),
            Mechanism::Login => SaslStep::Challenge(base64_encode(LOGIN_USERNAME)),
        }
    }
}

/// Strips the line end, handles `*` and `=`, and decodes base64. The
/// result may hold a password, so it is a `Secret` from the start.
fn decode_response(line: &[u8]) -> Result<Secret, SaslError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line == b"*" {
        return Err(SaslError::Cancelled);
    }
    if line.len() > MAX_RESPONSE_LEN {
        return Err(SaslError::TooLong);
    }
    if line == b"=" || line.is_empty() {
        return Ok(Secret::default());
    }
    let text = std::str::from_utf8(line).map_err(|_| SaslError::BadBase64)?;
    base64_decode(text)
        .map(Secret::new)
        .ok_or(SaslError::BadBase64)
}

fn name_from(bytes: &[u8]) -> Result<String, SaslError> {
    if bytes.len() > MAX_NAME_LEN {
        return Err(SaslError::TooLong);
    }
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| SaslError::NotUtf8)
}

/// RFC 4616: `[authzid] NUL authcid NUL passwd`.
fn parse_plain(message: &Secret) -> Result<Credentials, SaslError> {
    let mut parts = message.expose().splitn(3, |&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed(
            "PLAIN needs authzid NUL authcid NUL password",
        ));
    };
    if password.contains(&0) {
        return Err(SaslError::Malformed("NUL in password"));
    }
    if authcid.is_empty() {
        return Err(SaslError::Malformed("empty authcid"));
    }
    let authzid = name_from(authzid)?;
    Ok(Credentials {
        authzid: (!authzid.is_empty()).then_some(authzid),
        authcid: name_from(authcid)?,
        password: Secret::new(password),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> Vec<u8> {
        base64_encode(bytes).into_bytes()
    }

    fn done(step: SaslStep) -> Credentials {
        match step {
            SaslStep::Done(c) => c,
            other => panic!("expected Done, got {other:?}"),
        }
    }

    #[test]
    fn plain_with_initial_response() {
        let (_, step) = SaslServer::start(Mechanism::Plain, Some(&b64(b"\0tim\0tanstaaftanstaaf")));
        let c = done(step);
        assert_eq!((c.authzid, c.authcid.as_str()), (None, "tim"));
        assert_eq!(c.password.expose(), b"tanstaaftanstaaf");
    }

    #[test]
    fn plain_rfc4616_example_with_authzid() {
        // RFC 4616 §4: "Ursel" authorizing as "Kurt", password "xipj3plmq".
        let (_, step) = SaslServer::start(
            Mechanism::Plain,
            Some(b"S3VydABVcnNlbAB4aXBqM3BsbXE=".as_slice()),
        );
        let c = done(step);
        assert_eq!(c.authzid.as_deref(), Some("Kurt"));
        assert_eq!(c.authcid, "Ursel");
        assert_eq!(c.password.expose(), b"xipj3plmq");
    }

    #[test]
    fn plain_without_initial_response_sends_empty_challenge() {
        let (mut s, step) = SaslServer::start(Mechanism::Plain, None);
        assert_eq!(step, SaslStep::Challenge(String::new()));
        let mut line = b64(b"\0jane\0pw");
        line.extend_from_slice(b"\r\n");
        assert_eq!(done(s.step(&line)).authcid, "jane");
        assert_eq!(s.step(b"x"), SaslStep::Failed(SaslError::Finished));
    }

    #[test]
    fn plain_rejects_malformed_messages() {
        for (msg, err) in [
            (
                b"no nuls".as_slice(),
                SaslError::Malformed("PLAIN needs authzid NUL authcid NUL password"),
            ),
            (b"\0\0pw", SaslError::Malformed("empty authcid")),
            (b"\0u\0p\0w", SaslError::Malformed("NUL in password")),
            (b"\0\xff\0pw", SaslError::NotUtf8),
        ] {
            let (_, step) = SaslServer::start(Mechanism::Plain, Some(&b64(msg)));
            assert_eq!(step, SaslStep::Failed(err), "{msg:?}");
        }
        let (_, step) = SaslServer::start(Mechanism::Plain, Some(b"="));
        assert!(matches!(step, SaslStep::Failed(SaslError::Malformed(_))));
        let (_, step) = SaslServer::start(Mechanism::Plain, Some(b"!!!"));
        assert_eq!(step, SaslStep::Failed(SaslError::BadBase64));
        let huge = vec![b'A'; MAX_RESPONSE_LEN + 4];
        let (_, step) = SaslServer::start(Mechanism::Plain, Some(&huge));
        assert_eq!(step, SaslStep::Failed(SaslError::TooLong));
    }

    #[test]
    fn login_two_challenges() {
        let (mut s, step) = SaslServer::start(Mechanism::Login, None);
        assert_eq!(step, SaslStep::Challenge("VXNlcm5hbWU6".into()));
        assert_eq!(
            s.step(&b64(b"jane")),
            SaslStep::Challenge("UGFzc3dvcmQ6".into())
        );
        let c = done(s.step(&b64(b"secret")));
        assert_eq!(
            (c.authcid.as_str(), c.password.expose()),
            ("jane", b"secret".as_slice())
        );
    }

    #[test]
    fn login_initial_response_is_the_user_name() {
        let (mut s, step) = SaslServer::start(Mechanism::Login, Some(&b64(b"bob")));
        assert_eq!(step, SaslStep::Challenge("UGFzc3dvcmQ6".into()));
        assert_eq!(done(s.step(b"=")).password.expose(), b"");
        let (_, step) = SaslServer::start(Mechanism::Login, Some(b"="));
        assert_eq!(step, SaslStep::Challenge("VXNlcm5hbWU6".into()));
    }

    #[test]
    fn star_cancels_at_any_point() {
        let (mut s, _) = SaslServer::start(Mechanism::Login, None);
        assert_eq!(s.step(b"*\r\n"), SaslStep::Failed(SaslError::Cancelled));
        assert_eq!(s.step(b"x"), SaslStep::Failed(SaslError::Finished));
        let (mut s, _) = SaslServer::start(Mechanism::Plain, None);
        assert_eq!(s.step(b"*"), SaslStep::Failed(SaslError::Cancelled));
    }

    #[test]
    fn credentials_debug_hides_password() {
        let (_, step) = SaslServer::start(Mechanism::Plain, Some(&b64(b"\0u\0hunter2")));
        assert!(!format!("{step:?}").contains("hunter2"));
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(Mechanism::from_name("login"), Some(Mechanism::Login));
        assert_eq!(Mechanism::from_name("PLAIN"), Some(Mechanism::Plain));
        assert_eq!(Mechanism::from_name("CRAM-MD5"), None);
        assert!(Mechanism::Plain.is_plaintext());
    }

    #[test]
    fn arbitrary_lines_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let line: Vec<u8> = (0..len).map(|i| (seed >> (i % 8 * 8)) as u8).collect();
            // PLAIN with an initial response always ends at once.
            let (mut s, first) = SaslServer::start(Mechanism::Plain, Some(&line));
            assert!(!matches!(first, SaslStep::Challenge(_)), "{line:?}");
            assert_eq!(s.step(&line), SaslStep::Failed(SaslError::Finished));
            let (mut s, _) = SaslServer::start(Mechanism::Login, Some(&line));
            let _ = s.step(&line);
            let _ = s.step(&b64(&line));
        }
    }
}
