//! The IMAP session as a state machine without I/O: the authenticated and
//! selected states ([`state::Session`]), one handler per command
//! ([`commands`]), the selected mailbox's view and its untagged updates.
//! It reads parsed commands and storage, and writes responses to an
//! [`output::Output`]; sockets, TLS, deflate, timers and the clock belong
//! to the driver ([`crate::imap::driver`]). Wire format lives in
//! [`crate::imap::codec`].

pub mod capability;
pub mod commands;
mod content;
pub mod contexts;
pub(crate) mod dates;
mod flags;
pub mod id;
pub mod literals;
pub mod logout;
mod matching;
mod names;
pub mod notify;
mod os_info;
pub mod output;
pub mod prelogin;
mod refresh;
mod selected;
pub mod state;
mod url_part;
mod urlauth;

pub use commands::{Flow, dispatch};
pub use output::{Gone, Output};
pub use state::{Clock, OpenMail, Session, SessionSettings};
