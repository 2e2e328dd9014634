//! Runs one script on one target: the corpus first, then each step, and
//! returns the normalised transcript.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::normalise::Normaliser;
use crate::script::{Piece, Script, Step};
use crate::targets::{Place, Target};
use crate::wire::{Outcome, Wire};

pub fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential")
}

pub struct Corpus {
    /// (APPEND arguments before the literal, message)
    pub messages: Vec<(String, Vec<u8>)>,
}

pub fn load_corpus() -> Corpus {
    let dir = here().join("corpus");
    let index = std::fs::read_to_string(dir.join("index.txt")).expect("corpus/index.txt");
    let mut messages = Vec::new();
    for line in index.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (file, args) = line.split_once(' ').expect("index line: FILE FLAGS DATE");
        let text = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("corpus {file}: {e}"));
        messages.push((args.trim().to_string(), crlf(&text)));
    }
    Corpus { messages }
}

/// LF line ends (as stored in git) to CRLF.
fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 20);
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' && (i == 0 || text[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

struct Session {
    wire: Wire,
    pending: Vec<String>,
    /// A CONDSTORE-enabling command was sent (RFC 7162 §3.1).
    condstore: bool,
}

/// Words that make a command CONDSTORE-enabling (RFC 7162 §3.1: ENABLE
/// CONDSTORE/QRESYNC, SELECT (CONDSTORE), FETCH MODSEQ / CHANGEDSINCE, STORE
/// UNCHANGEDSINCE, SEARCH MODSEQ).
fn enables_condstore(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    ["CONDSTORE", "QRESYNC", "MODSEQ", "CHANGEDSINCE"]
        .iter()
        .any(|w| upper.contains(w))
}

/// One script's run on one target.
struct Run<'a> {
    target: &'a Target,
    place: Place,
    sessions: BTreeMap<String, Session>,
    norm: Normaliser,
    transcript: Vec<String>,
    now: i64,
}

#[derive(Clone, Copy)]
enum Until<'t> {
    Tag(&'t str),
    AllPending,
    /// A `+`, or the tagged end of this command (a refused literal).
    Continuation(Option<&'t str>),
}

impl Run<'_> {
    fn session(&mut self, name: &str) -> &mut Session {
        if !self.sessions.contains_key(name) {
            let wire = match self.target.open(&self.place) {
                Ok(w) => w,
                Err(e) => panic!("{}: cannot open session {name}: {e}", self.target.name()),
            };
            self.sessions.insert(
                name.to_string(),
                Session {
                    wire,
                    pending: Vec::new(),
                    condstore: false,
                },
            );
        }
        self.sessions.get_mut(name).expect("just inserted")
    }

    fn record(&mut self, session: &str, responses: Vec<Vec<u8>>) {
        let condstore = self.session(session).condstore;
        let mut texts = Vec::new();
        for r in responses {
            // tern sends HIGHESTMODSEQ on every SELECT as RFC 7162 §3.1.2.1
            // says, Dovecot only once CONDSTORE is enabled
            // (docs/imap-deviations.md): not compared before that.
            if !condstore && r.starts_with(b"* OK [HIGHESTMODSEQ ") {
                continue;
            }
            texts.push(self.norm.response(&r, self.now));
        }
        for text in sort_mailbox_lists(texts) {
            for line in text.split('\n') {
                self.transcript
                    .push(format!("{session}: {}", line.trim_end_matches('\r')));
            }
        }
    }

    /// Reads session responses until `until` is met; records them.
    fn wait(&mut self, name: &str, until: Until) -> Outcome {
        let s = self.session(name);
        if matches!(until, Until::AllPending) && s.pending.is_empty() {
            return Outcome::Tagged;
        }
        if let Until::Tag(t) = until
            && !s.pending.iter().any(|p| p == t)
        {
            return Outcome::Tagged;
        }
        let Session { wire, pending, .. } = s;
        let (got, outcome) = wire.until(|r| {
            if r.starts_with(b"+") {
                return matches!(until, Until::Continuation(_)).then_some(Outcome::Continuation);
            }
            let tag = r.split(|b| *b == b' ').next().unwrap_or(b"");
            if let Some(p) = pending.iter().position(|p| p.as_bytes() == tag) {
                let done = pending.remove(p);
                return match until {
                    Until::Tag(t) if t == done => Some(Outcome::Tagged),
                    Until::AllPending if pending.is_empty() => Some(Outcome::Tagged),
                    Until::Continuation(Some(t)) if t == done => Some(Outcome::Tagged),
                    _ => None,
                };
            }
            None
        });
        self.record(name, got);
        match outcome {
            Outcome::Timeout => self.transcript.push(format!("{name}: !! timeout")),
            Outcome::Eof => {
                self.transcript
                    .push(format!("{name}: !! connection closed"));
                self.session(name).pending.clear();
            }
            _ => {}
        }
        outcome
    }

    /// Sends a command or raw line; a synchronising literal waits for `+`
    /// (a tagged answer instead ends the command).
    fn send(&mut self, name: &str, tag: Option<&str>, pieces: &[Piece]) {
        if let Some(t) = tag {
            self.session(name).pending.push(t.to_string());
        }
        if pieces
            .iter()
            .any(|p| matches!(p, Piece::Text(t) if enables_condstore(t)))
        {
            self.session(name).condstore = true;
        }
        let mut buf = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Text(t) => buf.extend_from_slice(self.norm.expand(t).as_bytes()),
                Piece::Literal { data, sync } => {
                    let plus = if *sync { "" } else { "+" };
                    buf.extend_from_slice(format!("{{{}{plus}}}\r\n", data.len()).as_bytes());
                    if *sync {
                        self.session(name).wire.send(&std::mem::take(&mut buf));
                        let outcome = self.wait(name, Until::Continuation(tag));
                        if outcome != Outcome::Continuation {
                            return;
                        }
                    }
                    buf.extend_from_slice(data);
                }
            }
        }
        buf.extend_from_slice(b"\r\n");
        self.session(name).wire.send(&buf);
    }

    fn step(&mut self, source: &str, step: &Step) {
        self.transcript.push(format!("C: {source}"));
        match step {
            Step::Command {
                session,
                tag,
                pieces,
                wait,
            } => {
                self.send(session, Some(tag.as_str()), pieces);
                if *wait {
                    self.wait(session, Until::Tag(tag));
                }
            }
            Step::Raw { session, pieces } => self.send(session, None, pieces),
            Step::ExpectContinuation { session } => {
                let last = self.session(session).pending.last().cloned();
                if self.wait(session, Until::Continuation(last.as_deref())) != Outcome::Continuation
                {
                    self.transcript
                        .push(format!("{session}: !! no continuation"));
                }
            }
            Step::Wait { session, tag } => {
                match tag {
                    Some(t) => self.wait(session, Until::Tag(t)),
                    None => self.wait(session, Until::AllPending),
                };
            }
        }
    }
}

/// Sorts each run of LIST/LSUB responses (each with the STATUS responses
/// that follow it): neither RFC 3501 nor RFC 5258 orders them, and Dovecot
/// lists in directory order, which depends on the file system.
fn sort_mailbox_lists(texts: Vec<String>) -> Vec<String> {
    let is_entry = |t: &str| t.starts_with("* LIST ") || t.starts_with("* LSUB ");
    let mut out = Vec::with_capacity(texts.len());
    let mut run: Vec<Vec<String>> = Vec::new();
    let flush = |run: &mut Vec<Vec<String>>, out: &mut Vec<String>| {
        run.sort();
        out.extend(run.drain(..).flatten());
    };
    for t in texts {
        if is_entry(&t) {
            run.push(vec![t]);
        } else if t.starts_with("* STATUS ")
            && let Some(last) = run.last_mut()
        {
            last.push(t);
        } else {
            flush(&mut run, &mut out);
            out.push(t);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Appends the corpus to INBOX in a session of its own.
fn append_corpus(target: &Target, place: &Place, corpus: &Corpus) -> Result<(), String> {
    let mut w = target.open(place)?;
    for (i, (args, msg)) in corpus.messages.iter().enumerate() {
        let tag = format!("S{i}");
        w.send(format!("{tag} APPEND INBOX {args} {{{}}}\r\n", msg.len()).as_bytes());
        let (got, o) = w.until(|r| {
            (r.starts_with(b"+") || r.starts_with(format!("{tag} ").as_bytes()))
                .then_some(Outcome::Tagged)
        });
        if !got.last().is_some_and(|l| l.starts_with(b"+")) {
            return Err(format!("corpus {i}: {o:?} {got:?}"));
        }
        let mut data = msg.clone();
        data.extend_from_slice(b"\r\n");
        w.send(&data);
        let (got, o) = w.until(|r| {
            r.starts_with(format!("{tag} ").as_bytes())
                .then_some(Outcome::Tagged)
        });
        if !got
            .last()
            .is_some_and(|l| l.starts_with(format!("{tag} OK").as_bytes()))
        {
            return Err(format!("corpus {i}: {o:?} {got:?}"));
        }
    }
    w.send(b"S LOGOUT\r\n");
    let _ = w.until(|r| r.starts_with(b"S ").then_some(Outcome::Tagged));
    Ok(())
}

pub fn run_on(
    target: &Target,
    index: usize,
    script: &Script,
    corpus: &Corpus,
) -> (Vec<String>, String) {
    let place = target.place(index);
    if script.corpus {
        let copied = target.copy_corpus(&place, |tpl| append_corpus(target, tpl, corpus));
        if let Err(e) = copied.and_then(|done| match done {
            true => Ok(()),
            false => append_corpus(target, &place, corpus),
        }) {
            panic!(
                "{}: {}: corpus append failed: {e}",
                script.name,
                target.name()
            );
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut run = Run {
        target,
        place,
        sessions: BTreeMap::new(),
        norm: Normaliser::default(),
        transcript: Vec::new(),
        now,
    };
    for (source, step) in &script.steps {
        run.step(source, step);
    }
    let Run {
        sessions,
        transcript,
        place,
        ..
    } = run;
    drop(sessions);
    let log = place.log.lock().map(|v| v.join("\n")).unwrap_or_default();
    if let Some(dir) = &place.dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    (transcript, log)
}
