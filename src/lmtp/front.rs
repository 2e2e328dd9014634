//! The entry point the shard runtime calls for LMTP connections (inet and
//! unix socket). The work happens in `driver`.

pub use super::driver::serve;
