//! IDLE (RFC 2177), the driver's half: pushes the session's untagged
//! updates as soon as storage announces a change, until the client sends
//! DONE. The wait races the socket, the mailbox's change notification,
//! the store's notices when NOTIFY watches other mailboxes, shutdown, a
//! keep-alive timer and, for Maildir/mbox, a poll timer
//! (`mailbox_idle_check_interval`) that looks for changes other programs
//! made. It holds no buffers meanwhile.

use std::time::{Duration, Instant};

use futures_lite::future;

use super::authed::Authed;
use super::io::Incoming;
use crate::imap::codec::response::Status;
use crate::imap::codec::types::Tag;
use crate::imap::session::Output;
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

/// Why the connection closed (or must close: a BYE may be in the output).
pub type Closed = super::disconnect::Why;

fn inactivity(s: &Authed) -> Closed {
    Closed::Inactivity(s.env.settings.imap.idle_timeout_authed.as_secs())
}

/// Runs IDLE after the session wrote its continuation request; the
/// session answers the tag once DONE arrives.
pub async fn wait(s: &mut Authed, tag: &Tag) -> Result<(), Closed> {
    let opts = &s.env.settings.imap.imap_options;
    // imap_idle_notify_interval: keep NAT mappings alive.
    let mut keepalive = Every::new(opts.idle_notify_interval);
    let watched = s.session.idle_watch();
    // Deliveries straight into a Maildir, mutt rewriting an mbox: nobody
    // tells tern, so look every mailbox_idle_check_interval.
    let mut poll = match &watched {
        Some(mailbox) if mailbox.changed_by_others() => Every::new(opts.idle_check_interval),
        _ => Every::disabled(),
    };
    loop {
        s.session.idle_changes(&mut s.io).await;
        if s.io.flush().await.is_err() {
            return Err(Closed::Closed);
        }
        // A whole line (DONE) ends the wait; a partial one does not: updates
        // keep coming until the rest of it arrives.
        if s.io.absorb_arrived_input() {
            break;
        }
        s.io.release_idle_output();
        // The session may have moved to another view (INBOX renamed away).
        let watched = s.session.idle_watch();
        let counter = watched.as_ref().map(|m| m.change_counter());
        let notices = s.session.notify_wait();
        let wake = {
            let conn = &s.io.conn;
            let env = &s.env;
            let input = async { Wake::Input(conn.readable().await) };
            let selected_change = async {
                match (watched.as_ref(), counter) {
                    (Some(mailbox), Some(c)) => {
                        mailbox.wait_for_change(c).await;
                    }
                    _ => future::pending().await,
                }
            };
            let other_change = async {
                match &notices {
                    Some((n, seen)) => {
                        n.changed_since(*seen).await;
                    }
                    None => future::pending().await,
                }
            };
            let change = async {
                future::or(selected_change, other_change).await;
                Wake::Change
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
                        return Err(inactivity(s));
                    }
                    Err(_) => return Err(Closed::Closed),
                }
            }
            Wake::Input(Err(ConnError::Timeout)) => {
                s.io.status(None, Status::Bye, None, "Disconnected for inactivity.");
                return Err(inactivity(s));
            }
            Wake::Input(Err(_)) => return Err(Closed::Closed),
            Wake::Change => {}
            Wake::Shutdown => {
                s.io.status(None, Status::Bye, None, "Server shutting down.");
                return Err(Closed::Shutdown);
            }
            Wake::KeepAlive => {
                keepalive.fired();
                s.io.status(None, Status::Ok, None, "Still here");
            }
            Wake::Poll => {
                poll.fired();
                // Runs on the blocking pool; a change found bumps the
                // mailbox's counter and the loop's top reports it.
                s.session.idle_poll().await;
            }
        }
    }
    let line = match s.io.next_raw_line(&s.env).await {
        Incoming::Frame(f) => Some(f),
        Incoming::FrameError(_) | Incoming::LiteralRefused { .. } => None,
        _ => return Err(Closed::Closed),
    };
    let line = line.as_ref().map(|f| f.as_bytes());
    s.session.idle_done(&mut s.io, tag, line).await;
    Ok(())
}
