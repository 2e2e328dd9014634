//! The server side of SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677)
//! without channel binding, sans-io. Driven by `sasl::SaslServer`, which
//! handles base64 and `*`; this file sees the decoded messages.
//!
//! The passdb lookup sits in the middle of the exchange: after the client's
//! first message the caller is asked for the user's stored SCRAM secret.
//! An unknown user gets a made-up secret and fails only at the end, so the
//! exchange does not reveal which users exist.

use std::sync::OnceLock;

use subtle::ConstantTimeEq;

use super::encoding::{base64_decode, base64_encode};
use super::sasl::SaslError;
use super::scram::{DEFAULT_ITERATIONS, ScramCredentials, ScramHash};

/// What the exchange needs next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ScramOutput {
    /// Send these (raw, not yet base64) bytes as a challenge.
    Challenge(Vec<u8>),
    /// Look up the stored secret of this user, then call `credentials`.
    NeedCredentials(String),
    /// The client proved it knows the password.
    Verified {
        authzid: Option<String>,
        authcid: String,
    },
    Failed(SaslError),
}

#[derive(Debug)]
enum State {
    ClientFirst,
    Credentials(ClientFirst),
    ClientFinal {
        first: ClientFirst,
        server_first: String,
        credentials: ScramCredentials,
        user_known: bool,
    },
    FinalAck {
        authzid: Option<String>,
        authcid: String,
    },
    Finished,
}

#[derive(Debug)]
struct ClientFirst {
    gs2_header: String,
    authzid: Option<String>,
    authcid: String,
    bare: String,
    nonce: String,
}

#[derive(Debug)]
pub(crate) struct ScramExchange {
    hash: ScramHash,
    server_nonce: String,
    state: State,
}

impl ScramExchange {
    /// `server_nonce` must be printable ASCII without `,` (base64 is).
    pub(crate) fn new(hash: ScramHash, server_nonce: String) -> Self {
        ScramExchange {
            hash,
            server_nonce,
            state: State::ClientFirst,
        }
    }

    pub(crate) fn hash(&self) -> ScramHash {
        self.hash
    }

    /// Feeds one decoded client message.
    pub(crate) fn client_message(&mut self, message: &[u8]) -> ScramOutput {
        let state = std::mem::replace(&mut self.state, State::Finished);
        let result = match state {
            State::ClientFirst => parse_client_first(message).map(|first| {
                let user = first.authcid.clone();
                self.state = State::Credentials(first);
                ScramOutput::NeedCredentials(user)
            }),
            State::ClientFinal {
                first,
                server_first,
                credentials,
                user_known,
            } => self.client_final(message, first, &server_first, &credentials, user_known),
            State::FinalAck { authzid, authcid } => {
                if message.is_empty() {
                    Ok(ScramOutput::Verified { authzid, authcid })
                } else {
                    Err(SaslError::Malformed("expected an empty response"))
                }
            }
            State::Credentials(_) | State::Finished => Err(SaslError::Finished),
        };
        result.unwrap_or_else(ScramOutput::Failed)
    }

    /// Supplies the user's stored secret (`None`: unknown user, or no SCRAM
    /// secret stored) and returns the server-first challenge.
    pub(crate) fn credentials(&mut self, found: Option<ScramCredentials>) -> ScramOutput {
        let State::Credentials(first) = std::mem::replace(&mut self.state, State::Finished) else {
            return ScramOutput::Failed(SaslError::Finished);
        };
        let user_known = found.as_ref().is_some_and(|c| c.hash == self.hash);
        let credentials = match found {
            Some(c) if user_known => c,
            _ => fake_credentials(self.hash, &first.authcid),
        };
        let server_first = format!(
            "r={}{},s={},i={}",
            first.nonce,
            self.server_nonce,
            base64_encode(&credentials.salt),
            credentials.iterations
        );
        let challenge = server_first.clone().into_bytes();
        self.state = State::ClientFinal {
            first,
            server_first,
            credentials,
            user_known,
        };
        ScramOutput::Challenge(challenge)
    }

    fn client_final(
        &mut self,
        message: &[u8],
        first: ClientFirst,
        server_first: &str,
        credentials: &ScramCredentials,
        user_known: bool,
    ) -> Result<ScramOutput, SaslError> {
        let text = std::str::from_utf8(message).map_err(|_| SaslError::NotUtf8)?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or(SaslError::Malformed("client-final without proof"))?;
        let mut attrs = without_proof.split(',');
        let binding = attrs
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .ok_or(SaslError::Malformed("client-final without c="))?;
        if binding != base64_encode(first.gs2_header.as_bytes()) {
            return Err(SaslError::Malformed("channel binding mismatch"));
        }
        let nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or(SaslError::Malformed("client-final without r="))?;
        if nonce != format!("{}{}", first.nonce, self.server_nonce) {
            return Err(SaslError::Malformed("nonce mismatch"));
        }
        let proof = base64_decode(proof).ok_or(SaslError::BadBase64)?;
        if proof.len() != self.hash.output_len() {
            return Err(SaslError::Malformed("proof has the wrong length"));
        }
        let auth_message = format!("{},{server_first},{without_proof}", first.bare);
        let signature = self
            .hash
            .hmac(&credentials.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
        let matches: bool = self
            .hash
            .hash(&client_key)
            .ct_eq(&credentials.stored_key)
            .into();
        if !(matches && user_known) {
            return Err(SaslError::CredentialsRejected);
        }
        let server_signature = self
            .hash
            .hmac(&credentials.server_key, auth_message.as_bytes());
        self.state = State::FinalAck {
            authzid: first.authzid,
            authcid: first.authcid,
        };
        Ok(ScramOutput::Challenge(
            format!("v={}", base64_encode(&server_signature)).into_bytes(),
        ))
    }
}

/// A secret for a user without one. The salt must be the same on every
/// attempt for the same name, as a real user's is, or two tries would tell
/// that the user does not exist; so it is keyed by a per-process secret.
fn fake_credentials(hash: ScramHash, user: &str) -> ScramCredentials {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        // Without randomness the fake salts become guessable, which only
        // weakens the enumeration defence; the login still fails.
        let _ = getrandom::fill(&mut key);
        key
    });
    let derive = |label: &[u8]| hash.hmac(key, &[label, user.as_bytes()].concat());
    ScramCredentials {
        hash,
        iterations: DEFAULT_ITERATIONS,
        salt: derive(b"salt").into_iter().take(16).collect(),
        stored_key: derive(b"stored"),
        server_key: derive(b"server"),
    }
}

/// `gs2-cbind-flag "," [a=authzid] "," n=user,r=nonce[,ext…]`.
fn parse_client_first(message: &[u8]) -> Result<ClientFirst, SaslError> {
    let text = std::str::from_utf8(message).map_err(|_| SaslError::NotUtf8)?;
    let (flag, rest) = text
        .split_once(',')
        .ok_or(SaslError::Malformed("no GS2 header"))?;
    match flag {
        "n" | "y" => {}
        _ if flag.starts_with("p=") => {
            return Err(SaslError::Malformed("channel binding not offered"));
        }
        _ => return Err(SaslError::Malformed("bad GS2 flag")),
    }
    let (authzid, bare) = rest
        .split_once(',')
        .ok_or(SaslError::Malformed("no GS2 header"))?;
    let authzid = match authzid {
        "" => None,
        a => Some(decode_saslname(
            a.strip_prefix("a=")
                .ok_or(SaslError::Malformed("bad authzid"))?,
        )?),
    };
    let gs2_header = text[..text.len() - bare.len()].to_string();
    let mut attrs = bare.split(',');
    let authcid = attrs
        .next()
        .and_then(|a| a.strip_prefix("n="))
        .ok_or(SaslError::Malformed("client-first without n="))?;
    let nonce = attrs
        .next()
        .and_then(|a| a.strip_prefix("r="))
        .ok_or(SaslError::Malformed("client-first without r="))?;
    if nonce.is_empty() || !nonce.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
        return Err(SaslError::Malformed("bad nonce"));
    }
    let authcid = decode_saslname(authcid)?;
    if authcid.is_empty() {
        return Err(SaslError::Malformed("empty user name"));
    }
    Ok(ClientFirst {
        gs2_header,
        authzid,
        authcid,
        bare: bare.to_string(),
        nonce: nonce.to_string(),
    })
}

/// `=2C` is `,` and `=3D` is `=`; any other `=` is an error (RFC 5802 §5.1).
fn decode_saslname(name: &str) -> Result<String, SaslError> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(pos) = rest.find('=') {
        out.push_str(&rest[..pos]);
        let escape = rest.get(pos..pos + 3);
        match escape {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return Err(SaslError::Malformed("bad escape in user name")),
        }
        rest = &rest[pos + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

    fn rfc7677_credentials() -> ScramCredentials {
        let salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        ScramCredentials::derive(ScramHash::Sha256, b"pencil", &salt, 4096)
    }

    #[test]
    fn rfc7677_exchange() {
        let mut x = ScramExchange::new(ScramHash::Sha256, SERVER_NONCE.into());
        assert_eq!(
            x.client_message(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
            ScramOutput::NeedCredentials("user".into())
        );
        assert_eq!(
            x.credentials(Some(rfc7677_credentials())),
            ScramOutput::Challenge(
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".to_vec()
            )
        );
        assert_eq!(
            x.client_message(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
            ScramOutput::Challenge(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".to_vec())
        );
        assert_eq!(
            x.client_message(b""),
            ScramOutput::Verified {
                authzid: None,
                authcid: "user".into()
            }
        );
        assert_eq!(
            x.client_message(b""),
            ScramOutput::Failed(SaslError::Finished)
        );
    }

    #[test]
    fn wrong_proof_and_unknown_user_fail_at_the_end() {
        let final_msg: &[u8] = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let mut x = ScramExchange::new(ScramHash::Sha256, SERVER_NONCE.into());
        x.client_message(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        x.credentials(Some(rfc7677_credentials()));
        assert_eq!(
            x.client_message(final_msg),
            ScramOutput::Failed(SaslError::CredentialsRejected)
        );

        let mut x = ScramExchange::new(ScramHash::Sha256, SERVER_NONCE.into());
        x.client_message(b"n,,n=ghost,r=abc");
        let ScramOutput::Challenge(first) = x.credentials(None) else {
            panic!("unknown users still get a challenge");
        };
        assert!(first.starts_with(b"r=abc%hv") && first.ends_with(b",i=4096"));
        // The made-up salt is stable per user name, like a real one.
        let mut again = ScramExchange::new(ScramHash::Sha256, SERVER_NONCE.into());
        again.client_message(b"n,,n=ghost,r=abc");
        assert_eq!(
            again.credentials(None),
            ScramOutput::Challenge(first.clone())
        );
        let good_shape = b"c=biws,r=abc%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        assert_eq!(
            x.client_message(good_shape),
            ScramOutput::Failed(SaslError::CredentialsRejected)
        );
    }

    #[test]
    fn authzid_and_escaped_names() {
        let mut x = ScramExchange::new(ScramHash::Sha1, "srv".into());
        assert_eq!(
            x.client_message(b"y,a=admin=3Dx,n=a=2Cb,r=nonce"),
            ScramOutput::NeedCredentials("a,b".into())
        );
        assert_eq!(decode_saslname("x=3D=2C"), Ok("x=,".into()));
        assert!(decode_saslname("x=4").is_err());
        assert!(decode_saslname("x=ZZ").is_err());
    }

    #[test]
    fn malformed_first_and_final_messages() {
        for bad in [
            b"".as_slice(),
            b"p=tls-unique,,n=u,r=x",
            b"x,,n=u,r=x",
            b"n,,r=x,n=u",
            b"n,,n=,r=x",
            b"n,,n=u,r=",
            b"n,b=zz,n=u,r=x",
            b"n,,m=ext,n=u,r=x",
            b"\xff,,n=u,r=x",
        ] {
            let mut x = ScramExchange::new(ScramHash::Sha256, "s".into());
            assert!(
                matches!(x.client_message(bad), ScramOutput::Failed(_)),
                "{bad:?}"
            );
        }
        for bad in [
            b"c=biws,r=cs".as_slice(),
            b"c=eSws,r=cs,p=AAAA",
            b"c=biws,r=other,p=AAAA",
            b"c=biws,r=cs,p=!!",
            b"c=biws,r=cs,p=AAAA",
        ] {
            let mut x = ScramExchange::new(ScramHash::Sha256, "s".into());
            x.client_message(b"n,,n=u,r=c");
            x.credentials(None);
            assert!(
                matches!(x.client_message(bad), ScramOutput::Failed(_)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn credentials_before_client_first_is_an_error() {
        let mut x = ScramExchange::new(ScramHash::Sha256, "s".into());
        assert_eq!(
            x.credentials(None),
            ScramOutput::Failed(SaslError::Finished)
        );
        assert_eq!(x.hash(), ScramHash::Sha256);
    }
}
