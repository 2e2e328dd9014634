//! What every protocol driver does with its connection besides framing:
//! wait for the client's next bytes unless the server starts shutting down,
//! and write big replies in pieces.

use std::future::Future;

use super::conn::{Conn, ConnError};

/// Largest single write handed to the connection. rustls buffers at most
/// 64 KiB of plaintext before it must be flushed, so big replies (a LIST of
/// a large maildrop, message bodies, a big FETCH) go out in pieces and the
/// TLS layer never holds more than one piece of unsent data.
pub const WRITE_PIECE: usize = 16 * 1024;

/// How waiting for client input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// New bytes are in [`Conn::buffered`].
    Data,
    /// The server is shutting down; nothing was read.
    Shutdown,
    /// The client was idle for the connection's idle timeout.
    Timeout,
    /// The client went away (or the connection broke).
    Closed,
}

/// Reads more input into the connection's buffer (after whatever is buffered
/// already) unless `shutdown` completes first. A shutdown that has already
/// happened wins over input that is waiting, so a busy client cannot hold a
/// stopping server. Only the wait for the socket races the shutdown: it is a
/// peek, safe to abandon, and the read starts once data is there, so no
/// bytes are lost half-read.
pub async fn fill_unless_shutdown(conn: &mut Conn, shutdown: impl Future<Output = ()>) -> Arrival {
    let stop = async {
        shutdown.await;
        None
    };
    let ready = async { Some(conn.wait_socket().await) };
    // `or` polls `stop` first: an event that is already set wins.
    match futures_lite::future::or(stop, ready).await {
        None => return Arrival::Shutdown,
        Some(Err(ConnError::Timeout)) => return Arrival::Timeout,
        Some(Err(_)) => return Arrival::Closed,
        Some(Ok(())) => {}
    }
    match conn.fill().await {
        Ok(_) => Arrival::Data,
        Err(ConnError::Timeout) => Arrival::Timeout,
        Err(_) => Arrival::Closed,
    }
}

/// Queues and flushes `data` in pieces of at most [`WRITE_PIECE`].
pub async fn send_in_pieces(conn: &mut Conn, data: &[u8]) -> Result<(), ConnError> {
    for piece in data.chunks(WRITE_PIECE) {
        conn.queue(piece);
        conn.flush().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use glommio::net::UnixStream;

    use super::*;
    use crate::shard::event::LocalEvent;

    const LONG: Duration = Duration::from_secs(30);

    fn run<F: Future<Output = ()>>(test: impl FnOnce() -> F) {
        let ex = glommio::LocalExecutorBuilder::default()
            .make()
            .expect("executor");
        ex.run(test());
    }

    fn pair(idle: Duration) -> (Conn, UnixStream) {
        let (ours, theirs) = UnixStream::pair().expect("socketpair");
        (Conn::unix(ours, idle), theirs)
    }

    #[test]
    fn closing_with_unread_input_does_not_reset_the_client() {
        run(|| async {
            let (mut conn, mut client) = pair(LONG);
            // A client halfway through an APPEND when the server gives up.
            client
                .write_all(b"a APPEND INBOX {100}\r\nSubject: cut")
                .await
                .unwrap();
            glommio::timer::sleep(Duration::from_millis(20)).await;
            conn.queue(b"* BYE Server shutting down.\r\n");
            let closing = glommio::spawn_local(conn.close());
            let mut got = Vec::new();
            let read = client.read_to_end(&mut got).await;
            assert!(read.is_ok(), "the client was reset: {read:?}");
            assert_eq!(got, b"* BYE Server shutting down.\r\n");
            // It may go on sending what it had started: no EPIPE.
            client.write_all(b" and the rest").await.unwrap();
            drop(client);
            closing.await;
        });
    }

    #[test]
    fn input_after_what_is_buffered_is_data() {
        run(|| async {
            let (mut conn, mut client) = pair(LONG);
            let stop = LocalEvent::new();
            client.write_all(b"USER al").await.unwrap();
            assert_eq!(
                fill_unless_shutdown(&mut conn, stop.wait()).await,
                Arrival::Data
            );
            assert_eq!(conn.buffered(), b"USER al");
            // A partial line stays buffered; the next call waits for more
            // instead of reporting the old bytes again.
            client.write_all(b"ice\r\n").await.unwrap();
            assert_eq!(
                fill_unless_shutdown(&mut conn, stop.wait()).await,
                Arrival::Data
            );
            assert_eq!(conn.buffered(), b"USER alice\r\n");
        });
    }

    #[test]
    fn a_set_shutdown_wins_over_waiting_input() {
        run(|| async {
            let (mut conn, mut client) = pair(LONG);
            client.write_all(b"NOOP\r\n").await.unwrap();
            let stop = LocalEvent::new();
            stop.set();
            assert_eq!(
                fill_unless_shutdown(&mut conn, stop.wait()).await,
                Arrival::Shutdown
            );
            assert!(conn.buffered().is_empty(), "nothing was read");
        });
    }

    #[test]
    fn shutdown_while_waiting_ends_the_wait() {
        run(|| async {
            let (mut conn, _client) = pair(LONG);
            let stop = LocalEvent::new();
            let trigger = stop.clone();
            glommio::spawn_local(async move {
                glommio::timer::sleep(Duration::from_millis(20)).await;
                trigger.set();
            })
            .detach();
            assert_eq!(
                fill_unless_shutdown(&mut conn, stop.wait()).await,
                Arrival::Shutdown
            );
        });
    }

    #[test]
    fn idle_client_times_out_and_gone_client_is_closed() {
        run(|| async {
            let stop = LocalEvent::new();
            let (mut idle, _client) = pair(Duration::from_millis(20));
            assert_eq!(
                fill_unless_shutdown(&mut idle, stop.wait()).await,
                Arrival::Timeout
            );
            let (mut gone, client) = pair(LONG);
            drop(client);
            assert_eq!(
                fill_unless_shutdown(&mut gone, stop.wait()).await,
                Arrival::Closed
            );
        });
    }

    #[test]
    fn big_replies_arrive_whole() {
        run(|| async {
            let (mut conn, mut client) = pair(LONG);
            let reply: Vec<u8> = (0..5 * WRITE_PIECE + 7).map(|i| (i % 251) as u8).collect();
            let expected = reply.clone();
            let reader = glommio::spawn_local(async move {
                let mut got = vec![0; expected.len()];
                client.read_exact(&mut got).await.unwrap();
                got == expected
            });
            send_in_pieces(&mut conn, &reply).await.unwrap();
            assert!(reader.await, "the peer got every byte in order");
        });
    }
}
