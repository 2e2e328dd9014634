//! IDLE (RFC 2177): pushes untagged updates as soon as storage announces
//! a change, until the client sends DONE. The wait races the socket, the
//! mailbox's change notification, shutdown and a keep-alive timer, and
//! holds no buffers meanwhile.

use futures_lite::future;

use super::Flow;
use crate::imap::codec::parse_idle_done;
use crate::imap::codec::response::Status;
use crate::imap::codec::types::Tag;
use crate::imap::session::io::Incoming;
use crate::imap::session::state::Session;
use crate::net::conn::ConnError;
use crate::storage::Mailbox;

enum Wake {
    Input(Result<(), ConnError>),
    Change,
    Shutdown,
    KeepAlive,
}

pub async fn idle(s: &mut Session, tag: &Tag) -> Flow {
    s.io.push_raw(b"+ idling\r\n");
    // imap_idle_notify_interval: keep NAT mappings alive ("0" disables).
    let notify_interval = match s.env.settings.imap.imap_options.idle_notify_interval {
        d if d.is_zero() => std::time::Duration::from_secs(u64::from(u32::MAX)),
        d => d,
    };
    loop {
        s.sync(true, true).await;
        if s.io.flush().await.is_err() {
            return Flow::Close;
        }
        // A whole line (DONE) ends the wait; a partial one does not: updates
        // keep coming until the rest of it arrives.
        if s.io.absorb_arrived_input() {
            break;
        }
        let counter = s.selected.as_ref().map(|sel| sel.mailbox.change_counter());
        let wake = {
            let conn = &s.io.conn;
            let selected = &s.selected;
            let env = &s.env;
            let input = async { Wake::Input(conn.readable().await) };
            let change = async {
                match (selected.as_ref(), counter) {
                    (Some(sel), Some(c)) => {
                        sel.mailbox.wait_for_change(c).await;
                        Wake::Change
                    }
                    _ => future::pending().await,
                }
            };
            let stop = async {
                env.shutdown.wait().await;
                Wake::Shutdown
            };
            let keepalive = async {
                glommio::timer::sleep(notify_interval).await;
                Wake::KeepAlive
            };
            future::or(future::or(input, change), future::or(stop, keepalive)).await
        };
        match wake {
            Wake::Input(Ok(())) => {
                // Read what arrived; the loop's top decides whether a whole
                // line is here.
                match s.io.conn.fill().await {
                    Ok(_) => {}
                    Err(ConnError::Timeout) => {
                        s.io.status(None, Status::Bye, None, "Disconnected for inactivity.");
                        return Flow::Close;
                    }
                    Err(_) => return Flow::Close,
                }
            }
            Wake::Input(Err(ConnError::Timeout)) => {
                s.io.status(None, Status::Bye, None, "Disconnected for inactivity.");
                return Flow::Close;
            }
            Wake::Input(Err(_)) => return Flow::Close,
            Wake::Change => {}
            Wake::Shutdown => {
                s.io.status(None, Status::Bye, None, "Server shutting down.");
                return Flow::Close;
            }
            Wake::KeepAlive => s.io.status(None, Status::Ok, None, "Still here"),
        }
    }
    match s.io.next_raw_line(&s.env).await {
        Incoming::Frame(f) => {
            if parse_idle_done(f.as_bytes()).is_ok() {
                s.ok(tag, "Idle completed.");
            } else {
                s.bad(tag, "Expected DONE.");
            }
            Flow::Continue
        }
        Incoming::FrameError(_) | Incoming::LiteralRefused { .. } => {
            s.bad(tag, "Expected DONE.");
            Flow::Continue
        }
        _ => Flow::Close,
    }
}
