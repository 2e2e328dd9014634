//! Sans-io IMAP4rev2 / IMAP4rev1 codec: framing of the client byte stream,
//! command parsing, and response encoding. No I/O, no clock.
//!
//! Flow for a server session:
//! 1. [`framing::Framer::enqueue`] socket bytes, then loop on
//!    [`framing::Framer::next_event`]: send `+ ` on `NeedContinuation`,
//!    answer BAD/NO on `Error`, parse `Complete` frames.
//! 2. [`command::parse_command`] turns a frame into a [`types::Command`]
//!    (or a [`command::ParseError`] carrying the tag); the keywords and the
//!    rules of every command are in [`commands_table`].
//! 3. [`response`] writes typed responses into a `Vec<u8>` one at a time.

pub mod base64;
pub mod command;
pub mod commands_table;
pub mod encode;
pub mod framing;
mod parse;
pub mod response;
pub mod types;

pub use command::{
    ParseError, ParseErrorKind, parse_authenticate_data, parse_command, parse_idle_done,
};
pub use framing::{Frame, FrameError, FrameEvent, Framer, FramingLimits, LiteralMode};
pub use parse::urlauth::url_section;

#[cfg(test)]
mod replay_tests;
