//! Typed values of the IMAP grammar. Constructors check their input, so a
//! value that exists is always valid to encode.

mod core;
mod datetime;
mod fetch;
mod flag;
mod notify;
mod partial;
mod search;
mod sequence;

pub use self::core::{AString, Atom, InvalidValue, Mailbox, Tag};
pub use crate::auth::secret::Secret;
pub use datetime::{ImapDate, ImapDateTime};
pub use fetch::{
    FetchAttribute, FetchAttributes, FetchMacro, FetchModifiers, Partial, Section, SectionText,
};
pub use flag::{Flag, FlagPerm};
pub use notify::{EventGroup, MailboxFilter, NotifyEvent, NotifyRequest};
pub use partial::PartialRange;
pub use search::{EntryType, SearchKey};
pub use sequence::{SeqBound, SeqRange, SequenceSet};
mod command;
pub(crate) use self::core::{is_astring_char, is_atom_char};
pub use command::{
    AppendData, AppendMessage, AuthenticateData, CatenatePart, Command, CommandBody,
    InitialResponse, ListReturnOption, ListSelectOption, QResync, SearchCommand,
    SearchReturnOption, SelectParams, SortCriterion, SortKey, StatusItem, StoreAction,
    ThreadAlgorithm, UrlFetchParams, UrlFetchRequest,
};
pub(crate) use datetime::month_from_name;
