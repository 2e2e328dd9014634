//! IDLE (RFC 2177): pushes untagged updates as soon as storage announces
//! a change, until the client sends DONE. The wait races the socket, the
//! mailbox's change notification, shutdown, a keep-alive timer and, for
//! Maildir/mbox, a poll timer (`mailbox_idle_check_interval`) that looks
//! for changes other programs made. It holds no buffers meanwhile.

use std::time::{Duration, Instant};

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
    Poll,
}

/// A timer that fires every `interval` ("0" = never), measured from when it
/// last fired rather than from the last wake-up, so frequent updates do not
/// keep postponing it.
struct Every {
    interval: Option<Duration>,
    next: Instant,
}

impl Every {
    fn new(interval: Duration) -> Every {
        let interval = (!interval.is_zero()).then_some(interval);
        Every {
            next: Instant::now() + interval.unwrap_or_default(),
            interval,
        }
    }

    fn disabled() -> Every {
        Every {
            interval: None,
            next: Instant::now(),
        }
    }

    async fn tick(&self) {
        match self.interval {
            Some(_) => {
                glommio::timer::sleep(self.next.saturating_duration_since(Instant::now())).await
            }
            None => future::pending().await,
        }
    }

    fn fired(&mut self) {
        if let Some(i) = self.interval {
            self.next = Instant::now() + i;
        }
    }
}

pub async fn idle(s: &mut Session, tag: &Tag) -> Flow {
    s.io.push_raw(b"+ idling\r\n");
    let opts = &s.env.settings.imap.imap_options;
    // imap_idle_notify_interval: keep NAT mappings alive.
    let mut keepalive = Every::new(opts.idle_notify_interval);
    // Deliveries straight into a Maildir, mutt rewriting an mbox: nobody
    // tells tern, so look every mailbox_idle_check_interval.
    let mut poll = match &s.selected {
        Some(sel) if sel.mailbox.changed_by_others() => Every::new(opts.idle_check_interval),
        _ => Every::disabled(),
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
        s.io.release_idle_output();
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
            let (keepalive, poll) = (&keepalive, &poll);
            let keepalive_due = async {
                keepalive.tick().await;
                Wake::KeepAlive
            };
            let poll_due = async {
                poll.tick().await;
                Wake::Poll
            };
            future::or(
                future::or(input, change),
                future::or(stop, future::or(keepalive_due, poll_due)),
            )
            .await
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
            Wake::KeepAlive => {
                keepalive.fired();
                s.io.status(None, Status::Ok, None, "Still here");
            }
            Wake::Poll => {
                poll.fired();
                // Runs on the blocking pool; a change found bumps the
                // mailbox's counter and the loop's top reports it.
                crate::imap::session::refresh::selected(s, true).await;
            }
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
