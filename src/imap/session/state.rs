//! The authenticated/selected session: who is logged in, what the client
//! enabled, the selected mailbox's view, SEARCHRES, the tagged answer of
//! the running command and the logout counters. No socket, no clock, no
//! runtime: the driver feeds it parsed commands ([`super::commands::dispatch`])
//! and carries out the [`super::commands::Flow`] it returns.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use super::logout::Stats;
use super::output::Output;
use super::selected::{Enabled, Selected};
use crate::config::ImapWorkaround;
use crate::imap::codec::response::{EncodeOptions, ResponseCode, Status, StatusResponse};
use crate::imap::codec::types::Tag;
use crate::shard::env::ImapOptions;
use crate::storage::{AnyStore, MailboxName};

/// Opens the user's mail store when a command first needs it (the driver
/// does it over the shard's storage; tests hand over a prepared store).
pub trait OpenMail {
    fn open(&self) -> Pin<Box<dyn Future<Output = Result<AnyStore, String>> + '_>>;
}

/// Seconds since the UNIX epoch, from the driver's clock (SEARCH's
/// OLDER/YOUNGER); tests pass a fixed time.
pub type Clock = Rc<dyn Fn() -> i64>;

/// The settings handlers read, copied from the protocol settings.
#[derive(Debug, Clone, Default)]
pub struct SessionSettings {
    pub options: ImapOptions,
}

pub struct Session {
    pub id: String,
    pub user: String,
    pub settings: SessionSettings,
    /// The user's mail, opened on first use ([`Session::mail_store`]).
    store: Option<AnyStore>,
    opener: Box<dyn OpenMail>,
    clock: Clock,
    pub selected: Option<Selected>,
    pub enabled: Enabled,
    /// SEARCHRES `$` (UIDs).
    pub saved: Vec<u32>,
    /// The tagged answer of the running command, written after the
    /// untagged updates it must follow.
    pub reply: Option<StatusResponse>,
    pub stats: Stats,
    /// The client's ID fields were logged (`imap_id_log`, once a session).
    pub id_logged: bool,
    /// The `\Trash` mailbox, once looked up (for `%{trashed}`).
    pub trash_mailbox: Option<Option<MailboxName>>,
    /// COMPRESS=DEFLATE was started.
    pub compressing: bool,
    /// A failed look for other writers' changes was logged (once a session).
    pub refresh_warned: bool,
    /// Live SEARCH / SORT results (RFC 5267 UPDATE).
    pub contexts: Vec<super::contexts::SearchContext>,
    /// What the client asked to hear of with NOTIFY (RFC 5465).
    pub notify: Option<super::notify::NotifyState>,
}

impl Session {
    /// A session just logged in. `store` is the mail store when it could be
    /// opened already; otherwise `opener` is asked again on first use.
    pub fn new(
        id: String,
        user: String,
        settings: SessionSettings,
        store: Option<AnyStore>,
        opener: Box<dyn OpenMail>,
        clock: Clock,
    ) -> Session {
        Session {
            id,
            user,
            settings,
            store,
            opener,
            clock,
            selected: None,
            enabled: Enabled::default(),
            saved: Vec::new(),
            reply: None,
            stats: Stats::default(),
            id_logged: false,
            trash_mailbox: None,
            compressing: false,
            refresh_warned: false,
            contexts: Vec::new(),
            notify: None,
        }
    }

    pub fn reply(&mut self, tag: &Tag, status: Status, code: Option<ResponseCode>, text: &str) {
        self.reply = Some(StatusResponse {
            tag: Some(tag.clone()),
            status,
            code,
            text: text.to_string(),
        });
    }

    pub fn ok(&mut self, tag: &Tag, text: &str) {
        self.reply(tag, Status::Ok, None, text);
    }

    pub fn ok_code(&mut self, tag: &Tag, code: ResponseCode, text: &str) {
        self.reply(tag, Status::Ok, Some(code), text);
    }

    pub fn no(&mut self, tag: &Tag, code: ResponseCode, text: &str) {
        self.reply(tag, Status::No, Some(code), text);
    }

    pub fn bad(&mut self, tag: &Tag, text: &str) {
        self.reply(tag, Status::Bad, None, text);
    }

    pub fn utf8(&self) -> bool {
        self.enabled.utf8 || self.enabled.rev2
    }

    /// How responses are encoded given what the client enabled.
    pub fn encode_options(&self) -> EncodeOptions {
        EncodeOptions { utf8: self.utf8() }
    }

    /// A CONDSTORE-enabling command (FETCH MODSEQ / CHANGEDSINCE, STORE
    /// UNCHANGEDSINCE, SEARCH MODSEQ, STATUS HIGHESTMODSEQ) turns CONDSTORE
    /// on; the first one with a mailbox selected tells the client the
    /// mailbox's HIGHESTMODSEQ as far as it knows it (RFC 7162 §3.1), before
    /// any response of the command carries a MODSEQ.
    pub fn enable_condstore_implicitly(&mut self, out: &mut impl Output) {
        if self.enabled.condstore {
            return;
        }
        self.enabled.condstore = true;
        if let Some(sel) = &self.selected {
            out.status(
                None,
                Status::Ok,
                Some(ResponseCode::HighestModSeq(sel.known_modseq)),
                "Highest",
            );
        }
    }

    /// Now, in seconds since the UNIX epoch.
    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    /// The mail store, opened now if this is its first use.
    pub async fn mail_store(&mut self) -> Result<AnyStore, String> {
        if let Some(store) = &self.store {
            return Ok(store.clone());
        }
        let store = self.opener.open().await?;
        self.store = Some(store.clone());
        Ok(store)
    }

    pub fn workaround(&self, w: ImapWorkaround) -> bool {
        self.settings.options.client_workarounds.contains(&w)
    }

    /// Untagged updates after a command. `allow_expunge` is false after
    /// FETCH, STORE and SEARCH by sequence number (RFC 9051 §7.5.1);
    /// `allow_new` is false when delay-newmail holds EXISTS back.
    pub async fn sync(&mut self, out: &mut impl Output, allow_expunge: bool, allow_new: bool) {
        super::selected::follow_rename(self).await;
        // Live results and NOTIFY follow the mailbox when EXPUNGE and
        // EXISTS may both be sent.
        let live = allow_expunge && allow_new;
        if live {
            super::contexts::removals_before_sync(self, out);
        }
        let known_last = self.selected.as_ref().map(|sel| sel.uids.last().copied());
        let en = self.enabled;
        if let Some(sel) = self.selected.as_mut() {
            sel.sync(out, allow_expunge, allow_new, en).await;
        }
        if live {
            if let Some(last) = known_last {
                super::commands::notify::fetch_new_messages(self, out, last.unwrap_or(0)).await;
            }
            super::contexts::updates_after_sync(self, out).await;
            super::notify::deliver(self, out).await;
        }
    }

    /// Ends a command: the untagged updates its answer allows, then the
    /// tagged answer (a BAD answer reports nothing).
    pub async fn finish(&mut self, out: &mut impl Output, allow_expunge: bool, allow_new: bool) {
        if let Some(reply) = self.reply.take() {
            if reply.status != Status::Bad {
                self.sync(out, allow_expunge, allow_new).await;
            }
            let opts = out.opts();
            reply.encode(out.buf(), opts);
        }
    }
}
