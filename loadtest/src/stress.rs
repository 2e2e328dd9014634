//! The `stress` scenario: clients doing random LOGIN / SELECT / FETCH /
//! STORE / EXPUNGE / APPEND / COPY / LOGOUT on shared mailboxes, with random
//! abrupt disconnects (some in the middle of an APPEND's literal). Each
//! client keeps a model of its selected mailbox and checks every untagged
//! response against it: sequence numbers within EXISTS, EXISTS never
//! shrinking without EXPUNGE, no EXPUNGE during FETCH / STORE / SEARCH by
//! sequence number, RECENT ≤ EXISTS, UIDs stable and ascending, keywords
//! only after the FLAGS that defines them, its own STOREs reflected. Any
//! broken rule is a *violation*; a connection the server closed or reset
//! (the client did not drop it) is an *unexpected disconnect*; a NO or BAD
//! to a command that cannot fail is *refused*. All three are counted as
//! errors, so the run exits non-zero on any.

use std::collections::BTreeSet;
use std::io::Write as _;

use crate::conn::{Conn, with_timeout};
use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::imap::{quote, trailing_literal};
use crate::mix::Rng;

/// The primary operation name: every command counts.
pub const PRIMARY: &str = "stress-total";

/// Keywords the clients set; few, so sessions see each other's.
const KEYWORDS: [&str; 6] = ["$Stress0", "$Stress1", "$Stress2", "Work", "Later", "Todo"];
/// The mailboxes used: INBOX and one more (created on demand) for COPY.
const OTHER: &str = "Stress";
/// Most messages a client lets a mailbox grow to before it prefers EXPUNGE.
const CROWDED: u32 = 60;

/// Why a command did not complete normally.
#[derive(Debug)]
enum Stop {
    /// A response broke a rule of the model.
    Violation(String),
    /// The server closed, reset or stopped answering the connection.
    Disconnect(ClientError),
    /// A tagged NO / BAD (or a BYE) to a command that cannot fail.
    Refused(String),
}

/// The kind of command in progress, for the rules its responses follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// FETCH, STORE, SEARCH by sequence number: no EXPUNGE may be sent.
    SeqNumbers,
    Other,
}

/// The selected mailbox as this client was told.
struct Model {
    /// UID per sequence number as learned from FETCH (0: not known yet).
    uids: Vec<u32>,
    /// Keywords of the last FLAGS response.
    keywords: BTreeSet<String>,
    read_only: bool,
    name: &'static str,
}

impl Model {
    fn exists(&self) -> u32 {
        self.uids.len() as u32
    }
}

/// One untagged FETCH, as far as the checks need it.
#[derive(Debug, Default)]
struct Fetched {
    seq: u32,
    uid: Option<u32>,
    flags: Option<Vec<String>>,
}

/// A logged-in connection.
struct Session {
    conn: Conn,
    tag: u32,
    literal_plus: bool,
    model: Option<Model>,
}

/// One stress client: its PRNG and maybe a session.
pub struct Client {
    index: u64,
    rng: Rng,
    session: Option<Session>,
}

/// What one step recorded besides its name.
pub enum Outcome {
    Done(&'static str),
    /// The step's op, and what went wrong (category, message).
    Failed(&'static str, &'static str, String),
}

impl Client {
    pub fn new(index: u64, seed: u64) -> Client {
        Client {
            index,
            rng: Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(index + 1)),
            session: None,
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.rng.next_u64() % 100 < percent
    }

    /// One random step.
    pub async fn step(&mut self, ctx: &Ctx) -> Outcome {
        let limit = ctx.settings().timeout;
        let (op, result) = match self.session.as_ref().map(|s| s.model.is_some()) {
            None => ("login", with_timeout_stop(limit, self.login(ctx)).await),
            Some(false) => ("select", with_timeout_stop(limit, self.select()).await),
            Some(true) => {
                let op = self.pick();
                (
                    op,
                    with_timeout_stop(limit, self.selected_op(ctx, op)).await,
                )
            }
        };
        match result {
            Ok(()) => Outcome::Done(op),
            Err(stop) => {
                // The model cannot be trusted after any of these.
                self.session = None;
                match stop {
                    Stop::Violation(m) => Outcome::Failed(op, "violation", m),
                    Stop::Disconnect(e) => {
                        Outcome::Failed(op, "disconnect", format!("during {op}: {e}"))
                    }
                    Stop::Refused(m) => Outcome::Failed(op, "refused", format!("{op}: {m}")),
                }
            }
        }
    }

    fn pick(&mut self) -> &'static str {
        let crowded = self
            .session
            .as_ref()
            .and_then(|s| s.model.as_ref())
            .is_some_and(|m| m.exists() > CROWDED);
        let r = self.rng.next_u64() % 100;
        match r {
            0..=21 => "fetch",
            22..=39 => "store",
            40..=51 if crowded => "expunge",
            40..=51 => "append",
            52..=59 => "expunge",
            60..=65 => "copy",
            66..=71 => "search",
            72..=79 => "noop",
            80..=85 => "uid-fetch",
            86..=89 => "reselect",
            90..=92 => "logout",
            93..=96 => "drop",
            _ => "drop-in-append",
        }
    }

    async fn login(&mut self, ctx: &Ctx) -> Result<(), Stop> {
        let s = ctx.settings();
        let mut conn = Conn::open(&ctx.dialer, ctx.implicit_tls())
            .await
            .map_err(Stop::Disconnect)?;
        let greeting = conn.read_line().await.map_err(Stop::Disconnect)?.to_vec();
        if !greeting.starts_with(b"* OK") {
            return Err(Stop::Refused(text(&greeting)));
        }
        let mut session = Session {
            conn,
            tag: 0,
            literal_plus: has_word(&greeting, b"LITERAL+"),
            model: None,
        };
        if let Some(tls) = ctx.starttls() {
            session.command(b"STARTTLS", Kind::Other).await?;
            session
                .conn
                .start_tls(tls)
                .await
                .map_err(Stop::Disconnect)?;
        }
        let user = s.user(self.rng.next_u64() % s.user_count());
        let mut cmd = b"LOGIN ".to_vec();
        cmd.extend_from_slice(&quote(&user));
        cmd.push(b' ');
        cmd.extend_from_slice(&quote(&s.password));
        let done = session.command(&cmd, Kind::Other).await?;
        if has_word(done.tagged.as_bytes(), b"LITERAL+") {
            session.literal_plus = true;
        }
        self.session = Some(session);
        Ok(())
    }

    async fn select(&mut self) -> Result<(), Stop> {
        let examine = self.chance(10);
        let name = if self.chance(80) { "INBOX" } else { OTHER };
        let Some(session) = self.session.as_mut() else {
            return Ok(());
        };
        session.select(name, examine).await
    }

    async fn selected_op(&mut self, ctx: &Ctx, op: &'static str) -> Result<(), Stop> {
        let (a, b) = {
            let n = self.session_exists().max(1);
            let x = self.rng.one_to(n);
            let y = self.rng.one_to(n);
            (x.min(y), x.max(y))
        };
        let keyword = KEYWORDS[(self.rng.next_u64() % KEYWORDS.len() as u64) as usize];
        let own = self.chance(30);
        let add = self.chance(60);
        let silent_delete = self.chance(30);
        let half = self.chance(50);
        let flags_on_append = self.rng.next_u64() % 4;
        let examine = self.chance(10);
        let to_self = self.chance(40);
        let header = self.chance(50);
        let search_pick = self.rng.next_u64() % 3;
        let Some(session) = self.session.as_mut() else {
            return Ok(());
        };
        let Some(model) = session.model.as_ref() else {
            return Ok(());
        };
        let n = model.exists();
        let read_only = model.read_only;
        let current = model.name;
        match op {
            "fetch" if n > 0 => {
                let items = if header {
                    "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT DATE)])"
                } else if a == b {
                    "(UID FLAGS RFC822.SIZE BODY.PEEK[])"
                } else {
                    "(UID FLAGS)"
                };
                let cmd = format!("FETCH {a}:{b} {items}");
                session.command(cmd.as_bytes(), Kind::SeqNumbers).await?;
            }
            "uid-fetch" => {
                session
                    .command(b"UID FETCH 1:* (UID FLAGS)", Kind::Other)
                    .await?;
            }
            "store" if n > 0 && !read_only => {
                let sign = if add { '+' } else { '-' };
                // A keyword only this client sets: what the FETCH answer
                // shows of it must be this STORE's doing.
                let own_keyword = format!("Own{}", self.index);
                let flag = if own {
                    own_keyword.as_str()
                } else if silent_delete {
                    "\\Deleted"
                } else {
                    keyword
                };
                let cmd = format!("STORE {a} {sign}FLAGS ({flag})");
                let done = session.command(cmd.as_bytes(), Kind::SeqNumbers).await?;
                let checked = if own { done.fetched.as_slice() } else { &[] };
                for f in checked.iter().filter(|f| f.seq == a) {
                    if let Some(flags) = &f.flags {
                        let has = flags.iter().any(|x| x.eq_ignore_ascii_case(flag));
                        if has != add {
                            return Err(Stop::Violation(format!(
                                "STORE {a} {sign}FLAGS ({flag}) answered * {a} FETCH FLAGS ({})",
                                flags.join(" ")
                            )));
                        }
                    }
                }
            }
            "expunge" if !read_only => {
                if n > 0 {
                    let cmd = format!("STORE {a}:{b} +FLAGS.SILENT (\\Deleted)");
                    session.command(cmd.as_bytes(), Kind::SeqNumbers).await?;
                }
                session.command(b"EXPUNGE", Kind::Other).await?;
            }
            "append" | "drop-in-append" => {
                let flags = match flags_on_append {
                    0 => String::new(),
                    1 => "(\\Seen) ".to_string(),
                    2 => format!("({keyword}) "),
                    _ => format!("(\\Flagged {keyword}) "),
                };
                let message = &ctx.message;
                let mut head = format!("APPEND {current} {flags}").into_bytes();
                if op == "drop-in-append" {
                    // Half the literal, then the connection is gone.
                    let cut = if half { message.len() / 2 } else { 0 };
                    session.append_then_drop(&mut head, message, cut).await?;
                    self.session = None;
                    return Ok(());
                }
                session.append(&mut head, message).await?;
            }
            "copy" if n > 0 => {
                let to = if to_self { current } else { OTHER };
                let cmd = format!("COPY {a}:{b} {to}");
                match session.command(cmd.as_bytes(), Kind::Other).await {
                    Err(Stop::Refused(m)) if m.contains("[TRYCREATE]") => {
                        session.create_other().await?;
                    }
                    other => {
                        other?;
                    }
                }
            }
            "search" => {
                let cmd = match search_pick {
                    0 => "SEARCH UNSEEN".to_string(),
                    1 => format!("SEARCH KEYWORD {keyword}"),
                    _ => "SEARCH RECENT".to_string(),
                };
                session.command(cmd.as_bytes(), Kind::SeqNumbers).await?;
            }
            "reselect" => {
                let name = if current == "INBOX" { OTHER } else { "INBOX" };
                session.select(name, examine).await?;
            }
            "logout" => {
                let mut s = self
                    .session
                    .take()
                    .ok_or(Stop::Refused("no session".into()))?;
                s.logout().await?;
            }
            "drop" => {
                // Gone without a word, as a client on a dying network.
                self.session = None;
            }
            _ => {
                session.command(b"NOOP", Kind::Other).await?;
            }
        }
        Ok(())
    }

    fn session_exists(&self) -> u32 {
        self.session
            .as_ref()
            .and_then(|s| s.model.as_ref())
            .map_or(0, Model::exists)
    }
}

async fn with_timeout_stop(
    limit: std::time::Duration,
    fut: impl std::future::Future<Output = Result<(), Stop>>,
) -> Result<(), Stop> {
    match with_timeout(limit, async { Ok(fut.await) }).await {
        Ok(r) => r,
        Err(e) => Err(Stop::Disconnect(e)),
    }
}

/// What a command got back.
struct Done {
    tagged: String,
    fetched: Vec<Fetched>,
}

impl Session {
    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("s{}", self.tag)
    }

    async fn command(&mut self, cmd: &[u8], kind: Kind) -> Result<Done, Stop> {
        let tag = self.next_tag();
        let mut line = Vec::with_capacity(cmd.len() + 16);
        let _ = write!(line, "{tag} ");
        line.extend_from_slice(cmd);
        line.extend_from_slice(b"\r\n");
        self.conn.send(&line).await.map_err(Stop::Disconnect)?;
        self.responses(&tag, kind).await.map_err(|e| match e {
            Stop::Violation(m) => Stop::Violation(format!("{m} (in {})", text(cmd))),
            other => other,
        })
    }

    async fn select(&mut self, name: &'static str, examine: bool) -> Result<(), Stop> {
        let verb = if examine { "EXAMINE" } else { "SELECT" };
        self.model = Some(Model {
            uids: Vec::new(),
            keywords: BTreeSet::new(),
            read_only: examine,
            name,
        });
        let cmd = format!("{verb} {name}");
        match self.command(cmd.as_bytes(), Kind::Other).await {
            // Dovecot 2.3 answers without the NONEXISTENT code.
            Err(Stop::Refused(m))
                if name == OTHER && (m.contains("NONEXISTENT") || m.contains("doesn't exist")) =>
            {
                self.model = None;
                self.create_other().await
            }
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }

    /// CREATE of the COPY target; another session may have won the race.
    async fn create_other(&mut self) -> Result<(), Stop> {
        let cmd = format!("CREATE {OTHER}");
        match self.command(cmd.as_bytes(), Kind::Other).await {
            Err(Stop::Refused(m)) if m.contains("ALREADYEXISTS") => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// APPEND with a synchronizing literal (or LITERAL+ when offered).
    async fn append(&mut self, head: &mut Vec<u8>, message: &[u8]) -> Result<(), Stop> {
        let tag = self.next_tag();
        let mut line = format!("{tag} ").into_bytes();
        line.append(head);
        let plus = if self.literal_plus { "+" } else { "" };
        let _ = write!(line, "{{{}{plus}}}\r\n", message.len());
        if self.literal_plus {
            self.conn
                .send_parts(&[&line, message, b"\r\n"])
                .await
                .map_err(Stop::Disconnect)?;
        } else {
            self.conn.send(&line).await.map_err(Stop::Disconnect)?;
            self.until_continuation(&tag).await?;
            self.conn
                .send_parts(&[message, b"\r\n"])
                .await
                .map_err(Stop::Disconnect)?;
        }
        self.responses(&tag, Kind::Other).await.map(|_| ())
    }

    /// An APPEND abandoned after `cut` bytes of its literal.
    async fn append_then_drop(
        &mut self,
        head: &mut Vec<u8>,
        message: &[u8],
        cut: usize,
    ) -> Result<(), Stop> {
        let tag = self.next_tag();
        let mut line = format!("{tag} ").into_bytes();
        line.append(head);
        let _ = write!(line, "{{{}}}\r\n", message.len());
        self.conn.send(&line).await.map_err(Stop::Disconnect)?;
        self.until_continuation(&tag).await?;
        self.conn
            .send(&message[..cut.min(message.len())])
            .await
            .map_err(Stop::Disconnect)
    }

    /// Reads (and checks) untagged responses until the `+` of a literal.
    async fn until_continuation(&mut self, tag: &str) -> Result<(), Stop> {
        loop {
            let resp = self.read_response().await?;
            if resp.starts_with('+') {
                return Ok(());
            }
            if resp.starts_with(tag) {
                return Err(Stop::Refused(resp));
            }
            self.check_untagged(&resp, Kind::Other, &mut Vec::new())?;
        }
    }

    async fn logout(&mut self) -> Result<(), Stop> {
        let tag = self.next_tag();
        let line = format!("{tag} LOGOUT\r\n");
        self.conn
            .send(line.as_bytes())
            .await
            .map_err(Stop::Disconnect)?;
        loop {
            let resp = self.read_response().await?;
            if resp.starts_with(&format!("{tag} OK")) {
                return Ok(());
            }
            if resp.starts_with(&tag) {
                return Err(Stop::Refused(resp));
            }
        }
    }

    /// One response with its literals left out (their bytes skipped).
    async fn read_response(&mut self) -> Result<String, Stop> {
        let mut out = Vec::new();
        loop {
            let line = self.conn.read_line().await.map_err(Stop::Disconnect)?;
            out.extend_from_slice(line);
            let literal = trailing_literal(line);
            let Some(n) = literal else {
                break;
            };
            let n = usize::try_from(n).map_err(|_| Stop::Violation("huge literal".into()))?;
            self.conn.skip(n).await.map_err(Stop::Disconnect)?;
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Reads until the tagged answer, checking every untagged response.
    async fn responses(&mut self, tag: &str, kind: Kind) -> Result<Done, Stop> {
        let mut fetched = Vec::new();
        loop {
            let resp = self.read_response().await?;
            if let Some(rest) = resp.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) {
                if rest.starts_with("OK") {
                    return Ok(Done {
                        tagged: resp,
                        fetched,
                    });
                }
                return Err(Stop::Refused(resp));
            }
            self.check_untagged(&resp, kind, &mut fetched)?;
        }
    }

    fn check_untagged(
        &mut self,
        resp: &str,
        kind: Kind,
        fetched: &mut Vec<Fetched>,
    ) -> Result<(), Stop> {
        let Some(rest) = resp.strip_prefix("* ") else {
            return Ok(());
        };
        if rest.starts_with("BYE") {
            return Err(Stop::Refused(resp.to_string()));
        }
        let Some(model) = self.model.as_mut() else {
            return Ok(());
        };
        check(model, rest, kind, fetched).map_err(Stop::Violation)
    }
}

/// Applies one untagged response (without `* `) to the model; a broken
/// rule is returned as its description.
fn check(
    model: &mut Model,
    rest: &str,
    kind: Kind,
    fetched: &mut Vec<Fetched>,
) -> Result<(), String> {
    if let Some(list) = rest.strip_prefix("FLAGS (") {
        let list = list.split(')').next().unwrap_or("");
        model.keywords = list
            .split_whitespace()
            .filter(|f| !f.starts_with('\\'))
            .map(str::to_ascii_lowercase)
            .collect();
        return Ok(());
    }
    if let Some(ids) = rest.strip_prefix("SEARCH") {
        for id in ids.split_whitespace() {
            if id.starts_with('(') {
                break;
            }
            let n: u32 = id.parse().map_err(|_| format!("bad SEARCH: {rest}"))?;
            if kind == Kind::SeqNumbers && (n == 0 || n > model.exists()) {
                return Err(format!(
                    "SEARCH names {n} with EXISTS {}: {rest}",
                    model.exists()
                ));
            }
        }
        return Ok(());
    }
    let mut words = rest.splitn(3, ' ');
    let (Some(num), Some(word)) = (words.next(), words.next()) else {
        return Ok(());
    };
    let Ok(n) = num.parse::<u32>() else {
        return Ok(());
    };
    let exists = model.exists();
    match word.to_ascii_uppercase().as_str() {
        "EXISTS" => {
            if n < exists {
                return Err(format!("EXISTS {n} after EXISTS {exists} without EXPUNGE"));
            }
            model.uids.resize(n as usize, 0);
        }
        "RECENT" if n > exists => {
            return Err(format!("RECENT {n} above EXISTS {exists}"));
        }
        "EXPUNGE" => {
            if kind == Kind::SeqNumbers {
                return Err(format!(
                    "EXPUNGE {n} during a FETCH/STORE/SEARCH by sequence number"
                ));
            }
            if n == 0 || n > exists {
                return Err(format!("EXPUNGE {n} with EXISTS {exists}"));
            }
            model.uids.remove(n as usize - 1);
        }
        "FETCH" => {
            if n == 0 || n > exists {
                return Err(format!("FETCH {n} above EXISTS {exists}: * {rest}"));
            }
            let f = parse_fetch(n, words.next().unwrap_or(""));
            if let Some(uid) = f.uid {
                check_uid(model, n, uid)?;
            }
            if let Some(flags) = &f.flags {
                for k in flags.iter().filter(|f| !f.starts_with('\\')) {
                    if !model.keywords.contains(&k.to_ascii_lowercase()) {
                        return Err(format!("keyword {k} in FETCH before a FLAGS defined it"));
                    }
                }
            }
            fetched.push(f);
        }
        _ => {}
    }
    Ok(())
}

/// A FETCH's UID must match what this sequence number was, and keep the
/// UIDs ascending with their sequence numbers.
fn check_uid(model: &mut Model, seq: u32, uid: u32) -> Result<(), String> {
    let i = seq as usize - 1;
    let known = model.uids[i];
    if known != 0 && known != uid {
        return Err(format!("FETCH {seq} has UID {uid}, earlier UID {known}"));
    }
    let below = model.uids[..i].iter().rev().find(|&&u| u != 0);
    let above = model.uids[i + 1..].iter().find(|&&u| u != 0);
    if below.is_some_and(|&u| u >= uid) || above.is_some_and(|&u| u <= uid) {
        return Err(format!("UID {uid} at {seq} is out of order"));
    }
    model.uids[i] = uid;
    Ok(())
}

/// UID and FLAGS of a FETCH's item list (literal contents already left out).
fn parse_fetch(seq: u32, items: &str) -> Fetched {
    let mut f = Fetched {
        seq,
        ..Fetched::default()
    };
    let upper = items.to_ascii_uppercase();
    if let Some(at) = find_item(&upper, "UID ") {
        let digits: String = items[at + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        f.uid = digits.parse().ok();
    }
    if let Some(at) = find_item(&upper, "FLAGS (") {
        let list = items[at + 7..].split(')').next().unwrap_or("");
        f.flags = Some(list.split_whitespace().map(str::to_string).collect());
    }
    f
}

/// Where an item name starts (after `(` or a space), not inside another.
fn find_item(upper: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = upper[from..].find(name) {
        let at = from + i;
        if at == 0 || matches!(upper.as_bytes()[at - 1], b'(' | b' ') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn has_word(line: &[u8], word: &[u8]) -> bool {
    line.windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word))
}

fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(&line[..line.len().min(120)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(n: usize) -> Model {
        Model {
            uids: vec![0; n],
            keywords: ["work".to_string()].into_iter().collect(),
            read_only: false,
            name: "INBOX",
        }
    }

    fn apply(m: &mut Model, line: &str, kind: Kind) -> Result<(), String> {
        check(m, line, kind, &mut Vec::new())
    }

    #[test]
    fn sequence_numbers_stay_within_exists() {
        let mut m = model(2);
        assert!(apply(&mut m, "3 FETCH (FLAGS ())", Kind::Other).is_err());
        assert!(apply(&mut m, "3 EXISTS", Kind::Other).is_ok());
        assert!(apply(&mut m, "3 FETCH (FLAGS ())", Kind::Other).is_ok());
        assert!(apply(&mut m, "4 RECENT", Kind::Other).is_err());
        assert!(apply(&mut m, "2 EXISTS", Kind::Other).is_err(), "shrunk");
        assert!(apply(&mut m, "SEARCH 1 4", Kind::SeqNumbers).is_err());
        assert!(apply(&mut m, "SEARCH 1 3 (MODSEQ 9)", Kind::SeqNumbers).is_ok());
    }

    #[test]
    fn expunge_bookkeeping() {
        let mut m = model(3);
        assert!(apply(&mut m, "2 EXPUNGE", Kind::SeqNumbers).is_err());
        let mut m = model(3);
        apply(&mut m, "1 FETCH (UID 5)", Kind::Other).unwrap();
        apply(&mut m, "3 FETCH (UID 9)", Kind::Other).unwrap();
        apply(&mut m, "1 EXPUNGE", Kind::Other).unwrap();
        assert_eq!(m.exists(), 2);
        // UID 9 is now number 2.
        assert!(apply(&mut m, "2 FETCH (UID 8 FLAGS ())", Kind::Other).is_err());
        assert!(
            apply(&mut m, "1 FETCH (UID 10)", Kind::Other).is_err(),
            "order"
        );
        assert!(apply(&mut m, "5 EXPUNGE", Kind::Other).is_err());
    }

    #[test]
    fn keywords_only_after_flags() {
        let mut m = model(1);
        assert!(apply(&mut m, "1 FETCH (FLAGS (\\Seen Work))", Kind::Other).is_ok());
        assert!(apply(&mut m, "1 FETCH (FLAGS (Todo))", Kind::Other).is_err());
        apply(&mut m, "FLAGS (\\Seen Work Todo)", Kind::Other).unwrap();
        assert!(apply(&mut m, "1 FETCH (UID 3 FLAGS (Todo))", Kind::Other).is_ok());
    }

    #[test]
    fn fetch_items_are_found_outside_other_items() {
        let f = parse_fetch(
            4,
            "(BODY[HEADER.FIELDS (SUBJECT FLAGS)] {12} UID 17 FLAGS (\\Seen $Stress1))",
        );
        assert_eq!(f.uid, Some(17));
        assert_eq!(
            f.flags,
            Some(vec!["\\Seen".to_string(), "$Stress1".to_string()])
        );
    }
}
