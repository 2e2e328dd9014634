//! Catching up with other writers before a command uses the selected
//! mailbox: another tern process, the admin CLI, Dovecot's `dovecot-lda`
//! or `doveadm`, an MDA writing a Maildir or mbox. The dispatcher calls
//! [`selected`] before each command that reads or changes the mailbox
//! (the `catch_up` column of `commands::rules`), so the command works on
//! the mailbox as it is and the changes found are reported (EXISTS,
//! EXPUNGE, FETCH FLAGS) before its tagged answer.

use super::state::Session;
use crate::storage::StorageError;

/// Pick up outside changes to the selected mailbox (cheap when there are
/// none). A failure leaves the view as it was; see [`failed`].
pub async fn selected(s: &mut Session, forced: bool) {
    let Some(sel) = s.selected.as_ref() else {
        return;
    };
    let mailbox = sel.mailbox.clone();
    let outcome = if forced {
        mailbox.refresh_forced().await
    } else {
        mailbox.refresh().await
    };
    if let Err(e) = outcome {
        failed(s, &e);
    }
}

/// Log a failed refresh, once a session: a broken mailbox would otherwise
/// log at every command. The session goes on with the view it has.
pub fn failed(s: &mut Session, e: &StorageError) {
    // A mailbox deleted or renamed meanwhile is handled where it is used.
    if matches!(e, StorageError::MailboxGone) || s.refresh_warned {
        return;
    }
    s.refresh_warned = true;
    tracing::warn!(
        session = s.id,
        user = s.user,
        "imap: cannot look for other programs' changes to the mailbox, showing it as last seen: {e}"
    );
}
