//! Server side of the SASL mechanisms PLAIN (RFC 4616) and LOGIN, sans-io.
//!
//! The caller (IMAP `AUTHENTICATE`, POP3 `AUTH`) passes the client's lines
//! as they came off the wire (base64, `=` for an empty initial response,
//! `*` to cancel) and sends each `Challenge` as `+ <text>`. The result is a
//! set of credentials to check against the passdb; this module never
//! decides whether they are right.

use super::encoding::{base64_decode, base64_encode};
use super::scram::{ScramCredentials, ScramHash};
use super::scram_mech::{ScramExchange, ScramOutput};
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
    ScramSha1,
    ScramSha256,
}

impl Mechanism {
    /// The IANA name, as in `AUTH=PLAIN`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
        }
    }

    /// Case-insensitive lookup; `None` for a mechanism we do not offer.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        [
            Mechanism::Plain,
            Mechanism::Login,
            Mechanism::ScramSha1,
            Mechanism::ScramSha256,
        ]
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// Sends the password in the clear, so `disable_plaintext_auth` hides it
    /// on unsecured connections.
    pub fn is_plaintext(self) -> bool {
        matches!(self, Mechanism::Plain | Mechanism::Login)
    }
}

/// What the client proved it knows. `Debug` hides the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Identity to act as, if the client named one (PLAIN's authzid); the
    /// caller decides whether `authcid` may act as it (master users).
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
    /// SCRAM: the client's proof does not match (wrong password or user).
    #[error("credentials rejected")]
    CredentialsRejected,
    #[error("random source failed")]
    Random,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslStep {
    /// Send `+ ` followed by this text (already base64) and wait for a line.
    Challenge(String),
    /// The exchange is over: check these against the passdb.
    Done(Credentials),
    /// SCRAM: look up this user's stored secret for `hash` and pass it to
    /// `provide_scram_credentials` (`None` if unknown or none stored).
    NeedScramCredentials { authcid: String, hash: ScramHash },
    /// SCRAM finished: the client proved the password; no passdb password
    /// check is needed (account checks still are).
    Verified {
        authzid: Option<String>,
        authcid: String,
    },
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
    Scram(Box<ScramExchange>),
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
        let state = match mechanism {
            Mechanism::Plain => State::PlainWaiting,
            Mechanism::Login => State::LoginUser,
            Mechanism::ScramSha1 | Mechanism::ScramSha256 => match server_nonce() {
                Ok(nonce) => {
                    State::Scram(Box::new(ScramExchange::new(scram_hash(mechanism), nonce)))
                }
                Err(e) => {
                    let server = SaslServer {
                        mechanism,
                        state: State::Finished,
                    };
                    return (server, SaslStep::Failed(e));
                }
            },
        };
        Self::with_state(mechanism, state, initial_response)
    }

    fn with_state(
        mechanism: Mechanism,
        state: State,
        initial_response: Option<&[u8]>,
    ) -> (SaslServer, SaslStep) {
        let mut server = SaslServer { mechanism, state };
        let step = match initial_response {
            // LOGIN's initial response is the user name; an empty one
            // (`=`) just means "ask me".
            Some(token) if mechanism == Mechanism::Login && is_empty_token(token) => {
                server.first_challenge()
            }
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
                SaslStep::Failed(SaslError::Malformed("empty user name"))
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
            State::Scram(mut exchange) => {
                let output = exchange.client_message(decoded.expose());
                self.scram_step(exchange, output)
            }
            State::Finished => SaslStep::Failed(SaslError::Finished),
        }
    }

    /// Answers `NeedScramCredentials` with the user's stored secret.
    pub fn provide_scram_credentials(&mut self, found: Option<ScramCredentials>) -> SaslStep {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Scram(mut exchange) => {
                let output = exchange.credentials(found);
                self.scram_step(exchange, output)
            }
            _ => SaslStep::Failed(SaslError::Finished),
        }
    }

    fn scram_step(&mut self, exchange: Box<ScramExchange>, output: ScramOutput) -> SaslStep {
        match output {
            ScramOutput::Challenge(bytes) => {
                self.state = State::Scram(exchange);
                SaslStep::Challenge(base64_encode(&bytes))
            }
            ScramOutput::NeedCredentials(authcid) => {
                let hash = exchange.hash();
                self.state = State::Scram(exchange);
                SaslStep::NeedScramCredentials { authcid, hash }
            }
            ScramOutput::Verified { authzid, authcid } => SaslStep::Verified { authzid, authcid },
            ScramOutput::Failed(e) => SaslStep::Failed(e),
        }
    }

    fn first_challenge(&self) -> SaslStep {
        match self.mechanism {
            Mechanism::Login => SaslStep::Challenge(base64_encode(LOGIN_USERNAME)),
            _ => SaslStep::Challenge(String::new()),
        }
    }
}

fn scram_hash(mechanism: Mechanism) -> ScramHash {
    if mechanism == Mechanism::ScramSha1 {
        ScramHash::Sha1
    } else {
        ScramHash::Sha256
    }
}

/// 18 random bytes, base64: printable and free of `,` as SCRAM requires.
fn server_nonce() -> Result<String, SaslError> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(|_| SaslError::Random)?;
    Ok(base64_encode(&bytes))
}

fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn is_empty_token(token: &[u8]) -> bool {
    matches!(strip_line_end(token), b"" | b"=")
}

/// Strips the line end, handles `*` and `=`, and decodes base64. The
/// result may hold a password, so it is a `Secret` from the start.
fn decode_response(line: &[u8]) -> Result<Secret, SaslError> {
    let line = strip_line_end(line);
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
        password: Secret::from(password),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::XorShift64;

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
        let (mut s, step) = SaslServer::start(Mechanism::Login, Some(b"="));
        assert_eq!(step, SaslStep::Challenge("VXNlcm5hbWU6".into()));
        // An empty name after the prompt is refused, not asked again.
        assert_eq!(
            s.step(b""),
            SaslStep::Failed(SaslError::Malformed("empty user name"))
        );
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
    fn scram_sha256_through_the_sasl_server() {
        let salt = b"0123456789abcdef";
        let stored = ScramCredentials::derive(ScramHash::Sha256, b"pencil", salt, 4096);
        let exchange = ScramExchange::new(ScramHash::Sha256, "SRVNONCE".into());
        let (mut s, step) = SaslServer::with_state(
            Mechanism::ScramSha256,
            State::Scram(Box::new(exchange)),
            Some(&b64(b"n,,n=user,r=CLI")),
        );
        assert_eq!(
            step,
            SaslStep::NeedScramCredentials {
                authcid: "user".into(),
                hash: ScramHash::Sha256
            }
        );
        let SaslStep::Challenge(first) = s.provide_scram_credentials(Some(stored.clone())) else {
            panic!("expected server-first");
        };
        let first = String::from_utf8(base64_decode(&first).unwrap()).unwrap();
        assert_eq!(
            first,
            format!("r=CLISRVNONCE,s={},i=4096", base64_encode(salt))
        );
        // Client side of RFC 5802, computed here from the password.
        let h = ScramHash::Sha256;
        let salted = h.salted_password(b"pencil", salt, 4096);
        let client_key = h.hmac(&salted, b"Client Key");
        let without_proof = "c=biws,r=CLISRVNONCE";
        let auth_message = format!("n=user,r=CLI,{first},{without_proof}");
        let signature = h.hmac(&h.hash(&client_key), auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let final_msg = format!("{without_proof},p={}", base64_encode(&proof));
        let SaslStep::Challenge(server_final) = s.step(&b64(final_msg.as_bytes())) else {
            panic!("expected server-final");
        };
        let expected_v = h.hmac(&stored.server_key, auth_message.as_bytes());
        assert_eq!(
            base64_decode(&server_final).unwrap(),
            format!("v={}", base64_encode(&expected_v)).into_bytes()
        );
        assert_eq!(
            s.step(b""),
            SaslStep::Verified {
                authzid: None,
                authcid: "user".into()
            }
        );
    }

    #[test]
    fn scram_start_without_initial_response_and_cancel() {
        let (mut s, step) = SaslServer::start(Mechanism::ScramSha1, None);
        assert_eq!(step, SaslStep::Challenge(String::new()));
        assert!(matches!(
            s.step(&b64(b"n,,n=u,r=x")),
            SaslStep::NeedScramCredentials {
                hash: ScramHash::Sha1,
                ..
            }
        ));
        assert_eq!(s.step(b"*"), SaslStep::Failed(SaslError::Cancelled));
        assert_eq!(
            s.provide_scram_credentials(None),
            SaslStep::Failed(SaslError::Finished)
        );
        assert!(!Mechanism::ScramSha256.is_plaintext());
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(Mechanism::from_name("login"), Some(Mechanism::Login));
        assert_eq!(Mechanism::from_name("PLAIN"), Some(Mechanism::Plain));
        assert_eq!(Mechanism::from_name("CRAM-MD5"), None);
        assert_eq!(
            Mechanism::from_name("scram-sha-256"),
            Some(Mechanism::ScramSha256)
        );
        assert!(Mechanism::Plain.is_plaintext());
    }

    #[test]
    fn arbitrary_lines_never_panic() {
        let mut rng = XorShift64::new(0x2545_f491_4f6c_dd1d);
        for _ in 0..2000 {
            let seed = rng.next_u64();
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
