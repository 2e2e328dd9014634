//! The userdb lookup after a successful login, on the shard that accepted
//! the connection: its answer says which store the user's mail is in, and
//! so which shard owns the session (`Env::owner_of_store`). The result
//! travels with the handoff, so the owner shard does not look it up again.

use super::io::ImapIo;
use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::Tag;
use crate::imap::session::Output;
use crate::shard::env::{Env, UserInfo, UserLookup};

/// The user's userdb record, or `None` after answering the login command
/// with NO (unknown user, or the userdb could not answer).
pub async fn lookup_after_login(
    env: &Env,
    io: &mut ImapIo,
    session: &str,
    user: &str,
    tag: Option<&Tag>,
) -> Option<UserInfo> {
    match env.auth.lookup_user(user).await {
        UserLookup::Found(info) => Some(info),
        UserLookup::NotFound => {
            tracing::warn!(session, user, "imap: user vanished from userdb");
            io.no(
                tag,
                Some(ResponseCode::AuthorizationFailed),
                "Unknown user.",
            );
            None
        }
        UserLookup::TempFail(e) => {
            tracing::warn!(session, user, "imap: userdb lookup failed: {e}");
            io.no(
                tag,
                Some(ResponseCode::Unavailable),
                "Temporary user lookup failure.",
            );
            None
        }
    }
}
