//! What one "operation" is in each scenario. Sub-steps are recorded here
//! (service time); the runner records the primary operation from its
//! intended start time.

use crate::args::Scenario;
use crate::conn::{Conn, with_timeout};
use crate::ctx::{Ctx, Failed};
use crate::error::ClientError;
use crate::imap::Imap;
use crate::lmtp::Lmtp;
use crate::mix::{MixOp, Rng};
use crate::pop3::Pop3;

/// The name of the operation a scenario's throughput counts.
pub fn primary(s: Scenario) -> &'static str {
    match s {
        Scenario::Login | Scenario::Pop3 => "session",
        Scenario::ImapMix => "mix-total",
        Scenario::Lmtp => "delivery",
        Scenario::IdleHold => "wakeup",
        Scenario::Stress => crate::stress::PRIMARY,
    }
}

/// One worker's state: a user, a PRNG, and maybe an open session.
pub struct Worker {
    pub index: u64,
    rng: Rng,
    sessions: u64,
    imap: Option<Imap>,
    lmtp: Option<Lmtp>,
    stress: Option<crate::stress::Client>,
    /// messages in the mailbox when this worker selected it; expunge only
    /// removes what appends added beyond this
    base_exists: u32,
}

impl Worker {
    pub fn new(index: u64) -> Worker {
        Worker {
            index,
            rng: Rng::new(index + 1),
            sessions: 0,
            imap: None,
            lmtp: None,
            stress: None,
            base_exists: 0,
        }
    }

    /// Drops any session after a failure.
    pub fn reset(&mut self) {
        self.imap = None;
        self.lmtp = None;
    }

    /// Login and POP3 spread sessions over the user range; a persistent
    /// session (imap-mix) keeps one user per worker.
    fn next_user(&mut self, ctx: &Ctx) -> u64 {
        let n = self.sessions;
        self.sessions += 1;
        let workers = ctx.settings().clients.max(1) as u64;
        self.index + n.wrapping_mul(workers)
    }

    pub async fn once(&mut self, ctx: &Ctx) -> Result<&'static str, Failed> {
        match ctx.settings().scenario {
            Scenario::Login => self.login_session(ctx).await,
            Scenario::ImapMix => self.mix_op(ctx).await,
            Scenario::Pop3 => self.pop3_session(ctx).await,
            Scenario::Lmtp => self.lmtp_delivery(ctx).await,
            // idle-hold has its own driver (runner::idle_hold)
            Scenario::IdleHold => Ok("noop"),
            Scenario::Stress => self.stress_step(ctx).await,
        }
    }

    /// One random stress step. What went wrong is an error of its category
    /// (`violation`, `disconnect`, `refused`) carrying the details.
    async fn stress_step(&mut self, ctx: &Ctx) -> Result<&'static str, Failed> {
        let seed = ctx.settings().seed;
        let index = self.index;
        let client = self
            .stress
            .get_or_insert_with(|| crate::stress::Client::new(index, seed));
        match client.step(ctx).await {
            crate::stress::Outcome::Done(op) => Ok(op),
            crate::stress::Outcome::Failed(_, category, message) => Err(Failed {
                op: category,
                err: ClientError::Check(message),
            }),
        }
    }

    async fn imap_open(&mut self, ctx: &Ctx, user: u64) -> Result<Imap, Failed> {
        let s = ctx.settings();
        let mut imap = ctx
            .step("connect", async {
                let conn = Conn::open(&ctx.dialer, ctx.implicit_tls()).await?;
                Imap::greet(conn).await
            })
            .await?;
        if let Some(tls) = ctx.starttls() {
            ctx.step("starttls", imap.starttls(tls)).await?;
        }
        let name = s.user(user);
        ctx.step("login", imap.login(&name, &s.password, s.auth))
            .await?;
        Ok(imap)
    }

    async fn login_session(&mut self, ctx: &Ctx) -> Result<&'static str, Failed> {
        let user = self.next_user(ctx);
        let imap = self.imap_open(ctx, user).await?;
        ctx.step("logout", imap.logout()).await?;
        Ok("session")
    }

    async fn mix_op(&mut self, ctx: &Ctx) -> Result<&'static str, Failed> {
        let s = ctx.settings();
        if self.imap.is_none() {
            let mut imap = self.imap_open(ctx, self.index).await?;
            ctx.step("select", imap.select(&s.mailbox)).await?;
            self.base_exists = imap.exists;
            self.imap = Some(imap);
        }
        let Some(imap) = self.imap.as_mut() else {
            return Err(Failed {
                op: "connect",
                err: ClientError::Closed,
            });
        };
        let op = s.weights.pick(self.rng.next_u64());
        let n = imap.exists;
        let needs_message = matches!(
            op,
            MixOp::FetchFlags | MixOp::FetchHeaders | MixOp::FetchBody | MixOp::Store
        );
        let op = if needs_message && n == 0 {
            MixOp::Noop
        } else {
            op
        };
        let name = op.name();
        let limit = s.timeout + s.idle_time;
        let base = self.base_exists;
        with_timeout(limit, mix_command(ctx, imap, op, base, &mut self.rng))
            .await
            .map_err(|err| Failed { op: name, err })?;
        Ok(name)
    }

    async fn pop3_session(&mut self, ctx: &Ctx) -> Result<&'static str, Failed> {
        let s = ctx.settings();
        let user = s.user(self.next_user(ctx));
        let mut pop = ctx
            .step("connect", async {
                let conn = Conn::open(&ctx.dialer, ctx.implicit_tls()).await?;
                Pop3::greet(conn).await
            })
            .await?;
        if let Some(tls) = ctx.starttls() {
            ctx.step("stls", pop.stls(tls)).await?;
        }
        ctx.step("login", pop.login(&user, &s.password, s.auth))
            .await?;
        let (count, _) = ctx.step("stat", pop.stat()).await?;
        ctx.step("uidl", pop.multiline(b"UIDL")).await?;
        for m in 1..=count {
            let cmd = format!("RETR {m}");
            ctx.step("retr", pop.multiline(cmd.as_bytes())).await?;
        }
        ctx.step("quit", pop.quit()).await?;
        Ok("session")
    }

    async fn lmtp_delivery(&mut self, ctx: &Ctx) -> Result<&'static str, Failed> {
        let s = ctx.settings();
        if self.lmtp.is_none() {
            let lm = ctx
                .step("connect", async {
                    let conn = Conn::open(&ctx.dialer, ctx.implicit_tls()).await?;
                    let mut lm = Lmtp::greet(conn).await?;
                    lm.lhlo("loadtest.example.org").await?;
                    if let Some(tls) = ctx.starttls() {
                        lm.starttls(tls, "loadtest.example.org").await?;
                    }
                    Ok(lm)
                })
                .await?;
            self.lmtp = Some(lm);
        }
        let Some(lm) = self.lmtp.as_mut() else {
            return Err(Failed {
                op: "connect",
                err: ClientError::Closed,
            });
        };
        let first = self.rng.next_u64();
        let rcpts: Vec<String> = (0..s.rcpts as u64)
            .map(|i| s.recipient(first.wrapping_add(i) % s.user_count()))
            .collect();
        let delivered = lm
            .deliver("loadgen@example.org", &rcpts, &ctx.message, || {})
            .await
            .map_err(|err| Failed {
                op: "delivery",
                err,
            })?;
        if delivered != rcpts.len() {
            return Err(Failed {
                op: "delivery",
                err: ClientError::Refused(format!("{delivered}/{} recipients", rcpts.len())),
            });
        }
        Ok("delivery")
    }
}

/// One imap-mix command on a selected session.
async fn mix_command(
    ctx: &Ctx,
    imap: &mut Imap,
    op: MixOp,
    base_exists: u32,
    rng: &mut Rng,
) -> Result<(), ClientError> {
    let s = ctx.settings();
    let n = imap.exists;
    match op {
        MixOp::Select => imap.select(&s.mailbox).await?,
        MixOp::FetchFlags => {
            // a resync window: the newest 50 messages' flags
            let from = n.saturating_sub(49).max(1);
            let cmd = format!("FETCH {from}:* (UID FLAGS)");
            imap.command(cmd.as_bytes()).await?;
        }
        MixOp::FetchHeaders => {
            let from = n.saturating_sub(19).max(1);
            let cmd = format!(
                "FETCH {from}:{n} (UID RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID CONTENT-TYPE)])"
            );
            imap.command(cmd.as_bytes()).await?;
        }
        MixOp::FetchBody => {
            let m = rng.one_to(n);
            let cmd = format!("FETCH {m} (BODY.PEEK[])");
            imap.command(cmd.as_bytes()).await?;
        }
        MixOp::Store => {
            let m = rng.one_to(n);
            let sign = if rng.next_u64() & 1 == 0 { '+' } else { '-' };
            let cmd = format!("STORE {m} {sign}FLAGS (\\Seen)");
            imap.command(cmd.as_bytes()).await?;
        }
        MixOp::Search => {
            let cmd: &[u8] = if rng.next_u64() & 1 == 0 {
                b"SEARCH UNSEEN"
            } else {
                b"UID SEARCH SINCE 1-Nov-2026 NOT DELETED"
            };
            imap.command(cmd).await?;
        }
        MixOp::Append => imap.append(&s.mailbox, &ctx.message).await?,
        MixOp::Expunge => {
            // remove the newest message if appends made the mailbox grow,
            // so long runs keep its size stable
            if n > base_exists {
                let cmd = format!("STORE {n} +FLAGS.SILENT (\\Deleted)");
                imap.command(cmd.as_bytes()).await?;
            }
            imap.command(b"EXPUNGE").await?;
        }
        MixOp::Idle => {
            imap.idle_start().await?;
            glommio::timer::sleep(s.idle_time).await;
            imap.idle_done().await?;
        }
        MixOp::Noop => imap.command(b"NOOP").await?,
    }
    Ok(())
}
