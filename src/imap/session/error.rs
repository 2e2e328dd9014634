//! Why a session ended abnormally (logged, never sent to the client).

use crate::net::conn::ConnError;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("connection: {0}")]
    Conn(#[from] ConnError),
    #[error("client closed the connection")]
    Closed,
    #[error("idle timeout")]
    Timeout,
    #[error("server shutting down")]
    Shutdown,
    #[error("protocol stream cannot be resynchronized")]
    Desync,
}
