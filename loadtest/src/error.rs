//! Errors of one client operation. None of them stops the run: they are
//! counted per operation and the connection is dropped.

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("timed out")]
    Timeout,
    #[error("server closed the connection")]
    Closed,
    #[error("server line longer than {0} bytes")]
    LineTooLong(usize),
    #[error("unexpected reply: {0}")]
    Protocol(String),
    #[error("server refused: {0}")]
    Refused(String),
    /// stress: a response broke the client's model of the mailbox
    #[error("{0}")]
    Check(String),
}

impl ClientError {
    /// A short printable excerpt of a server line for error messages.
    pub fn protocol(line: &[u8]) -> ClientError {
        ClientError::Protocol(excerpt(line))
    }

    pub fn refused(line: &[u8]) -> ClientError {
        ClientError::Refused(excerpt(line))
    }
}

fn excerpt(line: &[u8]) -> String {
    let cut = &line[..line.len().min(120)];
    String::from_utf8_lossy(cut).into_owned()
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Args(#[from] crate::args::ArgError),
    #[error("cannot read CA file {0}: {1}")]
    Ca(String, String),
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("cannot start generator thread: {0}")]
    Executor(String),
}
