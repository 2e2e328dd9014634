//! The mbox backend (Dovecot-compatible): From_ lines in local time, no
//! `>From` quoting, `X-IMAPbase`/`X-UID`/`Status`/`X-Status`/`X-Keywords`/
//! `Content-Length` status headers (hidden from clients), fcntl + dotlock
//! locking, `INBOX=/var/mail/%u` with folders under `~/mail`. Runs on the
//! engine shared with Maildir ([`crate::storage::indexed::folder`]).

pub mod folder;
pub mod format;
pub mod from_line;
pub mod layout;
pub mod sys;

pub use layout::MboxLayout;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_outside;
