//! The Maildir backend (Dovecot-compatible): `tmp/new/cur`, `,S=`/`,W=`
//! and `:2,` file names, `dovecot-uidlist` v3, `dovecot-keywords`,
//! Maildir++ and `LAYOUT=fs`. Runs on the engine shared with mbox
//! ([`crate::storage::indexed::folder`]).

pub mod filename;
pub mod folder;
pub mod keywords;
pub mod layout;
pub mod uidlist;

pub use layout::MaildirLayout;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_outside;
