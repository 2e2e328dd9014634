//! Grammar pieces used by the command parser. Every function takes a
//! [`Cursor`] and either consumes what it recognised or fails; none can
//! read past the input or recurse without a depth bound.

pub(crate) mod connection;
pub(crate) mod context;
pub(crate) mod cursor;
pub(crate) mod fetch;
pub(crate) mod mailbox;
pub(crate) mod message;
pub(crate) mod notify;
pub(crate) mod search;
pub(crate) mod urlauth;
