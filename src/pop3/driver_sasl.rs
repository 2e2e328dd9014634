//! The SASL mechanisms the POP3 driver runs itself: PLAIN (RFC 4616) and
//! LOGIN. The session has already base64-decoded every client response, so
//! this only splits decoded bytes into credentials. Pure code.

use crate::auth::secret::Secret;

/// Credentials a mechanism produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslCredentials {
    pub user: String,
    pub password: Secret,
}

/// What to do after a mechanism step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslNext {
    /// Send this (raw, the session base64-encodes it) and wait.
    Challenge(&'static [u8]),
    /// Check these credentials.
    Done(SaslCredentials),
    /// Malformed response: fail the exchange.
    Malformed,
}

/// One exchange in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslExchange {
    Plain,
    LoginUser,
    LoginPassword { user: String },
}

impl SaslExchange {
    /// Starts `mechanism` (upper case) with the optional initial response.
    /// `None` for a mechanism this driver does not run.
    pub fn start(mechanism: &str, initial: Option<&[u8]>) -> Option<(SaslExchange, SaslNext)> {
        match mechanism {
            "PLAIN" => {
                let exchange = SaslExchange::Plain;
                let next = match initial {
                    // RFC 5034 §4: "=" is an empty initial response; PLAIN
                    // cannot be empty, so ask for the real one.
                    Some(data) if !data.is_empty() => parse_plain(data),
                    _ => SaslNext::Challenge(b""),
                };
                Some((exchange, next))
            }
            "LOGIN" => match initial {
                Some(user) if !user.is_empty() => {
                    let mut exchange = SaslExchange::LoginUser;
                    let next = exchange.step(user);
                    Some((exchange, next))
                }
                _ => Some((SaslExchange::LoginUser, SaslNext::Challenge(b"Username:"))),
            },
            _ => None,
        }
    }

    /// Feeds the client's decoded response.
    pub fn step(&mut self, response: &[u8]) -> SaslNext {
        match std::mem::replace(self, SaslExchange::Plain) {
            SaslExchange::Plain => parse_plain(response),
            SaslExchange::LoginUser => match std::str::from_utf8(response) {
                Ok(user) if !user.is_empty() && !user.contains('\0') => {
                    *self = SaslExchange::LoginPassword {
                        user: user.to_owned(),
                    };
                    SaslNext::Challenge(b"Password:")
                }
                _ => SaslNext::Malformed,
            },
            SaslExchange::LoginPassword { user } => SaslNext::Done(SaslCredentials {
                user,
                password: Secret::from(response),
            }),
        }
    }
}

/// `authzid NUL authcid NUL password`. An authzid different from the
/// authcid would be a master-user login, which is not offered.
fn parse_plain(data: &[u8]) -> SaslNext {
    let mut parts = data.splitn(3, |&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password)) = (parts.next(), parts.next(), parts.next())
    else {
        return SaslNext::Malformed;
    };
    let Ok(user) = std::str::from_utf8(authcid) else {
        return SaslNext::Malformed;
    };
    if user.is_empty() || (!authzid.is_empty() && authzid != authcid) {
        return SaslNext::Malformed;
    }
    SaslNext::Done(SaslCredentials {
        user: user.to_owned(),
        password: Secret::from(password),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(user: &str, password: &[u8]) -> SaslNext {
        SaslNext::Done(SaslCredentials {
            user: user.into(),
            password: Secret::from(password),
        })
    }

    #[test]
    fn plain_with_and_without_initial_response() {
        let (_, next) = SaslExchange::start("PLAIN", Some(b"\0alice\0pw")).unwrap();
        assert_eq!(next, done("alice", b"pw"));
        let (mut ex, next) = SaslExchange::start("PLAIN", None).unwrap();
        assert_eq!(next, SaslNext::Challenge(b""));
        assert_eq!(ex.step(b"alice\0alice\0p\0w"), done("alice", b"p\0w"));
        let (_, next) = SaslExchange::start("PLAIN", Some(b"")).unwrap();
        assert_eq!(next, SaslNext::Challenge(b""));
    }

    #[test]
    fn plain_refuses_malformed_and_foreign_authzid() {
        for bad in [
            &b"alice"[..],
            b"\0alice",
            b"\0\0pw",
            b"bob\0alice\0pw",
            b"\0\xff\0pw",
        ] {
            let (_, next) = SaslExchange::start("PLAIN", Some(bad)).unwrap();
            assert_eq!(next, SaslNext::Malformed, "{bad:?}");
        }
    }

    #[test]
    fn login_two_steps_and_initial_user() {
        let (mut ex, next) = SaslExchange::start("LOGIN", None).unwrap();
        assert_eq!(next, SaslNext::Challenge(b"Username:"));
        assert_eq!(ex.step(b"alice"), SaslNext::Challenge(b"Password:"));
        assert_eq!(ex.step(b"pw"), done("alice", b"pw"));
        let (mut ex, next) = SaslExchange::start("LOGIN", Some(b"bob")).unwrap();
        assert_eq!(next, SaslNext::Challenge(b"Password:"));
        assert_eq!(ex.step(b"x"), done("bob", b"x"));
        let (mut ex, _) = SaslExchange::start("LOGIN", None).unwrap();
        assert_eq!(ex.step(b""), SaslNext::Malformed);
        assert!(SaslExchange::start("CRAM-MD5", None).is_none());
    }
}
