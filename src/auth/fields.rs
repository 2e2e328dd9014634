//! userdb results: the `UserRecord`, `override_fields` / `default_fields`
//! templates applied to it, and the first/last valid uid/gid checks.
//!
//! `%` expansion and uid/gid name resolution come from the caller as
//! closures: the config layer owns the expander and the auth helper owns
//! NSS (`getpwnam_r` blocks, so it cannot live in pure code).

/// What a userdb lookup produced for one user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    /// Canonical user name (a `user=` field may change it).
    pub user: String,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub home: Option<String>,
    /// Per-user `mail_location` override (`mail=` field).
    pub mail: Option<String>,
    /// Any other field, in order, e.g. `quota_rule`.
    pub extra: Vec<(String, String)>,
}

impl UserRecord {
    pub fn new(user: impl Into<String>) -> Self {
        UserRecord {
            user: user.into(),
            ..Self::default()
        }
    }

    /// The value of an extra field.
    pub fn extra(&self, key: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, key: &str) -> bool {
        match key {
            "user" => !self.user.is_empty(),
            "uid" => self.uid.is_some(),
            "gid" => self.gid.is_some(),
            "home" => self.home.is_some(),
            "mail" => self.mail.is_some(),
            _ => self.extra(key).is_some(),
        }
    }
}

/// Which kind of id a name is resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    User,
    Group,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldsError {
    #[error("field {0:?} has an empty name")]
    EmptyKey(String),
    #[error("field {key}: %-expansion failed: {message}")]
    Expansion { key: String, message: String },
    #[error("unknown {kind} {name:?}")]
    UnknownId { kind: &'static str, name: String },
}

/// Where a field template stands against what the userdb driver returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldPrecedence {
    /// `override_fields`: every field replaces the driver's value.
    Override,
    /// `default_fields`: a field is used only where the driver gave none.
    Default,
}

/// A parsed `override_fields` or `default_fields` value: space-separated
/// `key=value` pairs (a bare `key` has an empty value). Values are kept
/// unexpanded; expansion happens per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldTemplate {
    fields: Vec<(String, String)>,
}

impl FieldTemplate {
    pub fn parse(text: &str) -> Result<Self, FieldsError> {
        let fields = text
            .split_ascii_whitespace()
            .map(|item| {
                let (key, value) = item.split_once('=').unwrap_or((item, ""));
                if key.is_empty() {
                    return Err(FieldsError::EmptyKey(item.to_string()));
                }
                Ok((key.to_string(), value.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(FieldTemplate { fields })
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// Applies every field to `record`; `precedence` says who wins where the
    /// driver already gave a value.
    pub fn apply<E, R>(
        &self,
        record: &mut UserRecord,
        precedence: FieldPrecedence,
        expand: E,
        resolve: R,
    ) -> Result<(), FieldsError>
    where
        E: Fn(&str) -> Result<String, String>,
        R: Fn(IdKind, &str) -> Option<u32>,
    {
        for (key, template) in &self.fields {
            if precedence == FieldPrecedence::Default && record.has(key) {
                continue;
            }
            let value = expand(template).map_err(|message| FieldsError::Expansion {
                key: key.clone(),
                message,
            })?;
            set_field(record, key, value, &resolve)?;
        }
        Ok(())
    }
}

/// Sets one userdb field on a record, resolving uid/gid names.
pub fn set_field<R>(
    record: &mut UserRecord,
    key: &str,
    value: String,
    resolve: &R,
) -> Result<(), FieldsError>
where
    R: Fn(IdKind, &str) -> Option<u32>,
{
    match key {
        "user" => record.user = value,
        "uid" => record.uid = Some(resolve_id(IdKind::User, &value, resolve)?),
        "gid" => record.gid = Some(resolve_id(IdKind::Group, &value, resolve)?),
        "home" => record.home = Some(value),
        "mail" => record.mail = Some(value),
        _ => match record.extra.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => record.extra.push((key.to_string(), value)),
        },
    }
    Ok(())
}

/// A number is taken as is; anything else is a name for the resolver.
pub fn resolve_id<R>(kind: IdKind, value: &str, resolve: &R) -> Result<u32, FieldsError>
where
    R: Fn(IdKind, &str) -> Option<u32>,
{
    if !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit())
        && let Ok(id) = value.parse()
    {
        return Ok(id);
    }
    resolve(kind, value).ok_or_else(|| FieldsError::UnknownId {
        kind: match kind {
            IdKind::User => "user",
            IdKind::Group => "group",
        },
        name: value.to_string(),
    })
}

/// `first_valid_uid` & co. Zero for a `last_*` means "no upper limit".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdLimits {
    pub first_valid_uid: u32,
    pub last_valid_uid: u32,
    pub first_valid_gid: u32,
    pub last_valid_gid: u32,
}

impl Default for IdLimits {
    /// Dovecot 2.3's compiled-in defaults.
    fn default() -> Self {
        IdLimits {
            first_valid_uid: 500,
            last_valid_uid: 0,
            first_valid_gid: 1,
            last_valid_gid: 0,
        }
    }
}

/// Why a user may not access mail; `Display` gives Dovecot's wording for
/// the log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdRefusal {
    #[error("userdb lookup didn't return uid and mail_uid isn't set")]
    MissingUid,
    #[error("userdb lookup didn't return gid and mail_gid isn't set")]
    MissingGid,
    #[error(
        "Mail access for users with UID {0} not permitted (see first_valid_uid in config file, uid from userdb lookup)."
    )]
    UidTooLow(u32),
    #[error(
        "Mail access for users with UID {0} not permitted (see last_valid_uid in config file, uid from userdb lookup)."
    )]
    UidTooHigh(u32),
    #[error(
        "Mail access for users with GID {0} not permitted (see first_valid_gid in config file, gid from userdb lookup)."
    )]
    GidTooLow(u32),
    #[error(
        "Mail access for users with GID {0} not permitted (see last_valid_gid in config file, gid from userdb lookup)."
    )]
    GidTooHigh(u32),
}

impl IdLimits {
    /// Checks the record's uid/gid, falling back to `mail_uid`/`mail_gid`
    /// (already resolved) when the userdb gave none. uid 0 is refused even
    /// with `first_valid_uid = 0`: root never touches mail.
    pub fn check(
        &self,
        record: &UserRecord,
        mail_uid: Option<u32>,
        mail_gid: Option<u32>,
    ) -> Result<(), IdRefusal> {
        let uid = record.uid.or(mail_uid).ok_or(IdRefusal::MissingUid)?;
        let gid = record.gid.or(mail_gid).ok_or(IdRefusal::MissingGid)?;
        if uid == 0 || uid < self.first_valid_uid {
            return Err(IdRefusal::UidTooLow(uid));
        }
        if self.last_valid_uid != 0 && uid > self.last_valid_uid {
            return Err(IdRefusal::UidTooHigh(uid));
        }
        if gid < self.first_valid_gid {
            return Err(IdRefusal::GidTooLow(gid));
        }
        if self.last_valid_gid != 0 && gid > self.last_valid_gid {
            return Err(IdRefusal::GidTooHigh(gid));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::username::split_user;

    fn vmail_resolver(kind: IdKind, name: &str) -> Option<u32> {
        match (kind, name) {
            (IdKind::User, "vmail") => Some(5000),
            (IdKind::Group, "vmail") => Some(5001),
            _ => None,
        }
    }

    /// Stand-in for the config layer's expander: `%n` only.
    fn expander(user: &str) -> impl Fn(&str) -> Result<String, String> + '_ {
        move |t: &str| Ok(t.replace("%n", split_user(user).0))
    }

    #[test]
    fn override_replaces_driver_values_like_the_seed_config() {
        let template = FieldTemplate::parse("uid=vmail gid=vmail home=/var/mail/%n/").unwrap();
        let mut rec = UserRecord {
            user: "jane@example.org".into(),
            uid: Some(1001),
            gid: Some(1001),
            home: Some("/home/jane".into()),
            ..UserRecord::default()
        };
        template
            .apply(
                &mut rec,
                FieldPrecedence::Override,
                expander("jane@example.org"),
                vmail_resolver,
            )
            .unwrap();
        assert_eq!((rec.uid, rec.gid), (Some(5000), Some(5001)));
        assert_eq!(rec.home.as_deref(), Some("/var/mail/jane/"));
    }

    #[test]
    fn default_fills_only_missing_fields() {
        let template =
            FieldTemplate::parse("uid=1234 home=/srv/%n mail=sdbox:~/mail quota_rule=*:storage=1G")
                .unwrap();
        let mut rec = UserRecord::new("bob");
        rec.home = Some("/home/bob".into());
        template
            .apply(
                &mut rec,
                FieldPrecedence::Default,
                expander("bob"),
                vmail_resolver,
            )
            .unwrap();
        assert_eq!(rec.uid, Some(1234));
        assert_eq!(rec.home.as_deref(), Some("/home/bob"));
        assert_eq!(rec.mail.as_deref(), Some("sdbox:~/mail"));
        assert_eq!(rec.extra("quota_rule"), Some("*:storage=1G"));
    }

    #[test]
    fn parse_handles_bare_keys_and_rejects_empty_ones() {
        let t = FieldTemplate::parse("  nopassword   a=b=c ").unwrap();
        assert_eq!(
            t.fields(),
            &[("nopassword".into(), "".into()), ("a".into(), "b=c".into())]
        );
        assert!(FieldTemplate::parse("").unwrap().is_empty());
        assert_eq!(
            FieldTemplate::parse("=x"),
            Err(FieldsError::EmptyKey("=x".into()))
        );
    }

    #[test]
    fn unknown_names_and_expansion_failures_are_errors() {
        let t = FieldTemplate::parse("uid=nobody-here").unwrap();
        let mut rec = UserRecord::new("u");
        assert!(matches!(
            t.apply(
                &mut rec,
                FieldPrecedence::Override,
                expander("u"),
                vmail_resolver
            ),
            Err(FieldsError::UnknownId { kind: "user", .. })
        ));
        let t = FieldTemplate::parse("home=%x").unwrap();
        let failing = |_: &str| Err("unknown variable %x".to_string());
        assert!(matches!(
            t.apply(&mut rec, FieldPrecedence::Override, failing, vmail_resolver),
            Err(FieldsError::Expansion { .. })
        ));
        // A number too large for u32 is a name, and unknown.
        assert!(resolve_id(IdKind::User, "99999999999", &vmail_resolver).is_err());
    }

    #[test]
    fn id_limits_follow_dovecot() {
        let limits = IdLimits {
            first_valid_uid: 1000,
            last_valid_uid: 60000,
            first_valid_gid: 1,
            last_valid_gid: 0,
        };
        let rec = |uid, gid| UserRecord {
            uid,
            gid,
            ..UserRecord::new("u")
        };
        assert_eq!(
            limits.check(&rec(Some(1000), Some(1000)), None, None),
            Ok(())
        );
        assert_eq!(
            limits.check(&rec(Some(999), Some(1000)), None, None),
            Err(IdRefusal::UidTooLow(999))
        );
        assert_eq!(
            limits.check(&rec(Some(60001), Some(1)), None, None),
            Err(IdRefusal::UidTooHigh(60001))
        );
        assert_eq!(
            limits.check(&rec(Some(1000), Some(0)), None, None),
            Err(IdRefusal::GidTooLow(0))
        );
        assert_eq!(
            limits.check(&rec(None, None), Some(5000), Some(5000)),
            Ok(())
        );
        assert_eq!(
            limits.check(&rec(None, Some(1)), None, None),
            Err(IdRefusal::MissingUid)
        );
        let open = IdLimits {
            first_valid_uid: 0,
            ..IdLimits::default()
        };
        assert_eq!(
            open.check(&rec(Some(0), Some(1)), None, None),
            Err(IdRefusal::UidTooLow(0))
        );
        assert!(
            IdRefusal::UidTooLow(7)
                .to_string()
                .contains("UID 7 not permitted")
        );
    }
}
