//! The Maildir backend (Dovecot-compatible): `tmp/new/cur`, `,S=`/`,W=`
//! and `:2,` file names, `dovecot-uidlist` v3, `dovecot-keywords`,
//! Maildir++ and `LAYOUT=fs`. Also home of the engine the mbox backend
//! shares (see [`engine`]).

pub mod dotlock;
pub mod engine;
pub mod filename;
pub mod folder;
pub mod keywords;
pub mod layout;
pub mod uidlist;

pub use engine::{FolderMailbox, FolderStore};
pub use layout::MaildirLayout;

#[cfg(test)]
pub(crate) mod test_rig;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_outside;
