//! Network layer: listeners, rustls, STARTTLS, the buffered connection
//! that protocols read lines and literals from, the POP3/LMTP line framer
//! (`line`, pure) and the read/write helpers every protocol driver shares
//! (`driver_io`), and the rawlog drivers write a session's plaintext to
//! (`rawlog`). This is the only layer that owns sockets.

pub mod burst_log;
pub mod conn;
pub mod driver_io;
pub mod fd;
pub mod line;
pub mod listener;
pub mod login_budget;
pub mod rawlog;
pub mod tls;

pub use conn::{Conn, ConnParts, PeerInfo};
