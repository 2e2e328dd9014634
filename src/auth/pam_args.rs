//! `passdb { driver = pam  args = … }` as Dovecot 2.3 reads it:
//! `[session=yes] [setcred=yes] [failure_show_msg=yes] [max_requests=N]
//! [cache_key=KEY] [SERVICE]`. The service defaults to `dovecot` so
//! existing /etc/pam.d/dovecot files keep working; `*` means the protocol
//! name (imap, pop3).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamArgs {
    /// Also open and close a PAM session (pam_open_session).
    pub session: bool,
    /// Also call pam_setcred.
    pub setcred: bool,
    /// Show the PAM module's failure message to the client.
    pub failure_show_msg: bool,
    /// Dovecot restarts a PAM worker after this many requests (leaky
    /// modules); 0 means no limit.
    pub max_requests: u32,
    pub cache_key: Option<String>,
    service: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PamArgsError {
    #[error("pam args: bad value in {0:?}")]
    BadValue(String),
    #[error("pam args: unexpected {0:?}")]
    Unexpected(String),
}

impl Default for PamArgs {
    fn default() -> Self {
        PamArgs {
            session: false,
            setcred: false,
            failure_show_msg: false,
            max_requests: 100,
            cache_key: None,
            service: "dovecot".to_string(),
        }
    }
}

impl PamArgs {
    pub fn parse(args: &str) -> Result<Self, PamArgsError> {
        let mut parsed = PamArgs::default();
        let mut service = None;
        for word in args.split_ascii_whitespace() {
            let flag = |value: &str| match value {
                "yes" => Ok(true),
                "no" => Ok(false),
                _ => Err(PamArgsError::BadValue(word.to_string())),
            };
            match word.split_once('=') {
                Some(("session", v)) => parsed.session = flag(v)?,
                Some(("setcred", v)) => parsed.setcred = flag(v)?,
                Some(("failure_show_msg", v)) => parsed.failure_show_msg = flag(v)?,
                Some(("max_requests", v)) => {
                    parsed.max_requests = v
                        .parse()
                        .map_err(|_| PamArgsError::BadValue(word.to_string()))?;
                }
                Some(("cache_key", v)) => parsed.cache_key = Some(v.to_string()),
                Some(_) => return Err(PamArgsError::Unexpected(word.to_string())),
                None if service.is_none() => service = Some(word.to_string()),
                None => return Err(PamArgsError::Unexpected(word.to_string())),
            }
        }
        if let Some(service) = service {
            parsed.service = service;
        }
        Ok(parsed)
    }

    /// The PAM service for a login on `protocol` (`imap`, `pop3`).
    pub fn service_for<'a>(&'a self, protocol: &'a str) -> &'a str {
        if self.service == "*" {
            protocol
        } else {
            &self.service
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_the_dovecot_service() {
        let a = PamArgs::parse("").unwrap();
        assert_eq!(a.service_for("imap"), "dovecot");
        assert!(!a.session && !a.setcred);
    }

    #[test]
    fn parses_every_option() {
        let a = PamArgs::parse(
            "session=yes setcred=yes failure_show_msg=yes max_requests=5 cache_key=%u%r mail",
        )
        .unwrap();
        assert!(a.session && a.setcred && a.failure_show_msg);
        assert_eq!(a.max_requests, 5);
        assert_eq!(a.cache_key.as_deref(), Some("%u%r"));
        assert_eq!(a.service_for("pop3"), "mail");
    }

    #[test]
    fn star_means_the_protocol() {
        let a = PamArgs::parse("*").unwrap();
        assert_eq!(a.service_for("imap"), "imap");
        assert_eq!(a.service_for("pop3"), "pop3");
    }

    #[test]
    fn bad_args_are_errors() {
        assert!(matches!(
            PamArgs::parse("session=maybe"),
            Err(PamArgsError::BadValue(_))
        ));
        assert!(matches!(
            PamArgs::parse("max_requests=x"),
            Err(PamArgsError::BadValue(_))
        ));
        assert!(matches!(
            PamArgs::parse("nope=1"),
            Err(PamArgsError::Unexpected(_))
        ));
        assert!(matches!(
            PamArgs::parse("a b"),
            Err(PamArgsError::Unexpected(_))
        ));
    }
}
