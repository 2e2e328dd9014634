//! Authentication: password schemes, passwd-file, user name rules, field
//! overrides, SASL mechanisms, PAM and the shard ⇄ auth-helper protocol.
//!
//! Everything here is sans-io except `pam` (blocking FFI) and
//! `passwd_file::PasswdFileDb::refresh_if_changed` (reads a file); both are
//! meant for the privileged auth helper process, never a shard thread.

#![deny(unsafe_code)]

pub mod cache;
mod cost;
pub mod encoding;
pub mod fields;
mod md5_crypt;
#[allow(unsafe_code)] // the one FFI module, see its header
pub mod pam;
pub mod pam_args;
pub mod passwd_file;
pub mod penalty;
pub mod protocol;
pub mod sasl;
pub mod scheme;
pub mod scram;
mod scram_mech;
pub mod secret;
pub mod username;
