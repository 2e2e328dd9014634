//! The identity a mail store is owned by. Every spelling of a user that
//! the userdb sends to one store (`u`, `u@domain`, `U`, a master-user
//! login, an LMTP recipient with or without `+detail`) must land on one
//! shard, so ownership hashes what the userdb resolved to — the store's
//! root directory — never the name a client typed.

use crate::storage::location::MailLocation;

/// The key of the store that `mail_location` (already `%`-expanded) names
/// for a user with `home`: the root path, lexically normalised (no `//`,
/// no `.` components, no trailing `/`, `~` expanded from `home`). When the
/// location cannot be parsed, the canonical `user` name stands in; opening
/// the store then fails the way it would anyway. Keys never collide
/// between the two kinds: a root is absolute, a user name has no `/`.
pub fn store_key(user: &str, home: &str, mail_location: &str) -> String {
    match MailLocation::parse(mail_location, home) {
        Ok(location) => normalise(&location.root.to_string_lossy()),
        Err(_) => user.to_string(),
    }
}

/// `/a//b/./c/` → `/a/b/c`. `..` never reaches here (the location parser
/// refuses it), so no component needs resolving against another.
fn normalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for component in path.split('/') {
        if component.is_empty() || component == "." {
            continue;
        }
        out.push('/');
        out.push_str(component);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_root_give_one_key() {
        let want = "/srv/mail/jane/mdir";
        for (home, location) in [
            ("/srv/mail/jane", "maildir:~/mdir"),
            ("/srv/mail/jane/", "maildir:~/mdir"),
            ("/srv/mail/jane//", "maildir:~/mdir/"),
            ("", "maildir:/srv/mail/jane/mdir"),
            ("", "maildir:/srv//mail/./jane/mdir/"),
            ("", "maildir:/srv/mail/jane/mdir:LAYOUT=fs:INDEX=/idx/jane"),
            ("/x", "sdbox:/srv/mail/jane/mdir/."),
        ] {
            assert_eq!(store_key("jane", home, location), want, "{location} {home}");
        }
        assert_eq!(store_key("jane", "", "mbox:/"), "/");
    }

    #[test]
    fn different_roots_differ_and_bad_locations_fall_back_to_the_user() {
        assert_ne!(
            store_key("a", "/h/a", "sdbox:~/mail"),
            store_key("b", "/h/b", "sdbox:~/mail")
        );
        // no home for `~`, relative path, unknown format, `..`
        for bad in ["sdbox:~/mail", "sdbox:rel", "mdbox:/m", "sdbox:/a/../b", ""] {
            assert_eq!(store_key("jane@example.org", "", bad), "jane@example.org");
        }
    }
}
