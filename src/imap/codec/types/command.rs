//! The typed commands the parser produces.

use super::core::{AString, Atom, Mailbox, Tag};
use super::datetime::ImapDateTime;
use super::fetch::{FetchAttributes, FetchModifiers};
use super::flag::Flag;
use super::search::SearchKey;
use super::sequence::SequenceSet;
use crate::auth::secret::Secret;
use crate::imap::codec::commands_table::CommandSpec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: Tag,
    /// The command's row in the command table: the rules the session
    /// applies around it.
    pub spec: &'static CommandSpec,
    /// Sent as `UID <keyword>`.
    pub uid: bool,
    pub body: CommandBody,
}

/// SASL-IR initial response (RFC 4959): `=` means "empty", otherwise the
/// base64-decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialResponse(pub Secret);

/// A client line answering an AUTHENTICATE `+` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticateData {
    Response(Secret),
    /// `*`: the client cancels (server answers `tag BAD`).
    Cancel,
}

/// SELECT / EXAMINE parameters (RFC 7162).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SelectParams {
    pub condstore: bool,
    pub qresync: Option<QResync>,
}

/// `QRESYNC (uidvalidity modseq [known-uids] [(seq-match uid-match)])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QResync {
    pub uid_validity: u32,
    pub modseq: u64,
    pub known_uids: Option<SequenceSet>,
    /// (known sequence numbers, their UIDs)
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

/// LIST-EXTENDED selection options (RFC 5258, RFC 6154).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSelectOption {
    Subscribed,
    Remote,
    RecursiveMatch,
    SpecialUse,
    Other(Atom),
}

/// LIST return options (RFC 5258, 5819, 6154).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturnOption {
    Subscribed,
    Children,
    SpecialUse,
    Status(Vec<StatusItem>),
    Other(Atom),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusItem {
    Messages,
    UidNext,
    UidValidity,
    Unseen,
    Deleted,
    Size,
    Recent,
    HighestModSeq,
    AppendLimit,
}

/// One message of an APPEND (MULTIAPPEND allows several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<Flag>,
    pub date: Option<ImapDateTime>,
    pub data: AppendData,
}

/// What an APPEND message is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendData {
    /// The message as one literal; `binary` when sent as literal8 `~{n}`
    /// (RFC 3516: may contain NUL, binary parts).
    Literal { bytes: Vec<u8>, binary: bool },
    /// RFC 4469 `CATENATE (...)`: the pieces, joined in order.
    Catenate(Vec<CatenatePart>),
}

/// One piece of a CATENATE list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatenatePart {
    /// `TEXT {n}`: bytes as sent.
    Text(Vec<u8>),
    /// `URL "..."`: an IMAP URL (relative to this server) as sent.
    Url(Vec<u8>),
}

/// One URL of URLFETCH; `params` is RFC 5524's `(url BINARY ...)` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlFetchRequest {
    pub url: Vec<u8>,
    pub params: Option<UrlFetchParams>,
}

/// What an RFC 5524 URLFETCH asks for (BODY when neither BODY nor BINARY
/// is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlFetchParams {
    pub body: bool,
    pub binary: bool,
    pub body_part_structure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchReturnOption {
    Min,
    Max,
    All,
    Count,
    Save,
    /// RFC 5267: keep the result live (ADDTO / REMOVEFROM).
    Update,
    /// RFC 5267: a hint that the criteria will be used again.
    Context,
    /// RFC 9394 / RFC 5267 §4.4: one window of the results.
    Partial(super::partial::PartialRange),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCommand {
    /// `RETURN (...)` given (ESEARCH): answer with ESEARCH. An empty list
    /// means `RETURN ()`, which is ALL.
    pub return_options: Option<Vec<SearchReturnOption>>,
    pub charset: Option<AString>,
    pub criteria: SearchKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    pub reverse: bool,
    pub key: SortKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadAlgorithm {
    OrderedSubject,
    References,
    /// Dovecot's REFS: REFERENCES without subject gathering, threads
    /// ordered by their newest message.
    Refs,
    Other(Atom),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreAction {
    Replace,
    Add,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    Capability,
    Noop,
    Logout,
    StartTls,
    Authenticate {
        mechanism: Atom,
        initial_response: Option<InitialResponse>,
    },
    Login {
        username: AString,
        password: Secret,
    },
    Enable {
        capabilities: Vec<Atom>,
    },
    /// RFC 2971; `None` for `ID NIL`.
    Id {
        parameters: Option<Vec<(AString, Option<AString>)>>,
    },
    Namespace,
    Select {
        mailbox: Mailbox,
        params: SelectParams,
    },
    Examine {
        mailbox: Mailbox,
        params: SelectParams,
    },
    Create {
        mailbox: Mailbox,
        /// RFC 6154 `(USE (\Drafts ...))`.
        special_use: Vec<Flag>,
    },
    Delete {
        mailbox: Mailbox,
    },
    Rename {
        from: Mailbox,
        to: Mailbox,
    },
    Subscribe {
        mailbox: Mailbox,
    },
    Unsubscribe {
        mailbox: Mailbox,
    },
    List {
        /// A selection list or RETURN was given (RFC 5258 extended LIST),
        /// even an empty one: `LIST () "" *` answers like LIST-EXTENDED.
        extended: bool,
        selection: Vec<ListSelectOption>,
        reference: Mailbox,
        /// list-mailbox patterns (with `*` / `%`), as bytes.
        patterns: Vec<Vec<u8>>,
        return_options: Vec<ListReturnOption>,
    },
    Lsub {
        reference: Mailbox,
        pattern: Vec<u8>,
    },
    Status {
        mailbox: Mailbox,
        items: Vec<StatusItem>,
    },
    Append {
        mailbox: Mailbox,
        messages: Vec<AppendMessage>,
    },
    Idle,
    Check,
    Close,
    Unselect,
    Expunge,
    /// RFC 4315 `UID EXPUNGE set`.
    UidExpunge {
        uids: SequenceSet,
    },
    Search {
        uid: bool,
        search: SearchCommand,
    },
    Fetch {
        uid: bool,
        set: SequenceSet,
        attributes: FetchAttributes,
        modifiers: FetchModifiers,
    },
    Store {
        uid: bool,
        set: SequenceSet,
        unchanged_since: Option<u64>,
        action: StoreAction,
        silent: bool,
        flags: Vec<Flag>,
    },
    Copy {
        uid: bool,
        set: SequenceSet,
        mailbox: Mailbox,
    },
    Move {
        uid: bool,
        set: SequenceSet,
        mailbox: Mailbox,
    },
    Sort {
        uid: bool,
        criteria: Vec<SortCriterion>,
        search: SearchCommand,
    },
    Thread {
        uid: bool,
        algorithm: ThreadAlgorithm,
        charset: AString,
        criteria: SearchKey,
    },
    /// RFC 4978; the only algorithm defined is DEFLATE.
    Compress {
        algorithm: Atom,
    },
    /// RFC 5267: stop the updates of the searches with these tags.
    CancelUpdate {
        tags: Vec<Vec<u8>>,
    },
    /// RFC 5465.
    Notify(super::notify::NotifyRequest),
    /// RFC 4467 `GENURLAUTH 1*(url-rump mechanism)`.
    GenUrlAuth {
        requests: Vec<(Vec<u8>, Atom)>,
    },
    /// RFC 4467 `RESETKEY [mailbox *mechanism]`.
    ResetKey {
        mailbox: Option<Mailbox>,
        mechanisms: Vec<Atom>,
    },
    /// RFC 4467 `URLFETCH 1*url`, with RFC 5524's parameters.
    UrlFetch {
        urls: Vec<UrlFetchRequest>,
    },
}
