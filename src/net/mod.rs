//! Network layer: listeners, rustls, STARTTLS, and the buffered connection
//! that protocols read lines and literals from. This is the only layer that
//! owns sockets.

pub mod conn;
pub mod fd;
pub mod listener;
pub mod tls;

pub use conn::{Conn, ConnParts, PeerInfo};
