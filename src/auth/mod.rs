//! Authentication: password schemes, passwd-file, user name rules, field
//! overrides, SASL mechanisms (PLAIN, LOGIN, SCRAM), PAM, the passdb cache,
//! the per-IP failure penalty and the shard ⇄ auth-helper protocol.
//!
//! Everything here is sans-io (time comes in as an argument) except `pam`
//! (blocking FFI) and `passwd_file::PasswdFileDb` (reads the file); both
//! belong to the privileged auth helper process, never a shard thread.
//! `scheme::verify` is pure but can burn a second of CPU (Argon2, bcrypt),
//! so it too belongs on the helper's threads.

#![deny(unsafe_code)]

pub mod cache;
mod cost;
pub mod encoding;
pub mod fields;
pub mod helper;
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
