//! Runtime: one glommio executor per shard, pinned per `shard_cpus`; which
//! shard owns which mail store; the mesh that carries messages (connection
//! handoffs) between shards; process-wide control signals.

pub mod control;
pub mod env;
pub mod event;
pub mod owner;
#[cfg(test)]
mod ownership_tests;
pub mod placement;
pub mod published;
pub mod repoll;
pub mod runtime;
pub mod store_key;

pub use control::Control;
pub use event::LocalEvent;
pub use owner::owner_shard;
pub use runtime::{ShardContext, ShardSpec, spawn_shards};
