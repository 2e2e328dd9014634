//! Wire protocol between the shards and the privileged auth helper,
//! sans-io: both sides encode into a `Vec<u8>` and feed received bytes to
//! a `FrameDecoder`.
//!
//! Frame: `u32` big-endian body length, then the body: a kind byte, the
//! `u32` request id, then the fields of that kind. Requests are pipelined;
//! responses carry the id of their request and may come in any order.
//! Strings are `u16` length + UTF-8; every length is checked against what
//! is left of the frame, so a hostile peer can cost at most one frame of
//! memory.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::fields::UserRecord;
use super::secret::Secret;

/// Largest frame body. A request holds a few short strings; a response a
/// user record with its extra fields.
pub const MAX_FRAME_LEN: usize = 64 * 1024;

/// Most bytes a decoder keeps buffered before the caller drains frames.
pub const MAX_BUFFERED: usize = 1024 * 1024;

const KIND_PASSDB: u8 = 1;
const KIND_USERDB: u8 = 2;
const KIND_OK: u8 = 0x81;
const KIND_FAIL: u8 = 0x82;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame of {0} bytes exceeds the limit")]
    FrameTooLarge(usize),
    #[error("peer sent more than {MAX_BUFFERED} unread bytes")]
    BufferFull,
    #[error("unknown message kind {0:#04x}")]
    UnknownKind(u8),
    #[error("truncated field in frame")]
    Truncated,
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    #[error("invalid field: {0}")]
    InvalidField(&'static str),
    #[error("field too long to encode: {0}")]
    FieldTooLong(&'static str),
    #[error("decoder stopped after an earlier error")]
    Poisoned,
}

/// Shard → helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Check a password; the helper answers with the canonical user name.
    Passdb {
        id: u32,
        service: String,
        user: String,
        password: Secret,
        rip: Option<IpAddr>,
        lip: Option<IpAddr>,
        secured: bool,
        mech: String,
    },
    /// Look up the userdb record (uid, gid, home, mail, …).
    Userdb {
        id: u32,
        service: String,
        user: String,
    },
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailReason {
    BadCredentials,
    UnknownUser,
    /// Refused by policy (uid range, allow_nets, …); the text is for the log.
    Disallowed(String),
    Locked,
    /// Not the user's fault (PAM down, file unreadable); retry later.
    TempFail(String),
}

/// Helper → shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Ok {
        id: u32,
        /// Canonical user name plus any userdb fields.
        user: UserRecord,
    },
    Fail {
        id: u32,
        reason: FailReason,
        /// How long the shard should wait before answering NO.
        delay_ms: u32,
    },
}

impl Request {
    pub fn id(&self) -> u32 {
        match self {
            Request::Passdb { id, .. } | Request::Userdb { id, .. } => *id,
        }
    }
}

impl Response {
    pub fn id(&self) -> u32 {
        match self {
            Response::Ok { id, .. } | Response::Fail { id, .. } => *id,
        }
    }
}

/// A message that travels in one frame.
pub trait WireMessage: Sized {
    /// Appends one whole frame to `out`.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError>;
    /// Decodes one frame body (without its length prefix).
    fn decode_body(body: &[u8]) -> Result<Self, ProtocolError>;
}

impl WireMessage for Request {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        let mut w = Writer::default();
        match self {
            Request::Passdb {
                id,
                service,
                user,
                password,
                rip,
                lip,
                secured,
                mech,
            } => {
                w.u8(KIND_PASSDB);
                w.u32(*id);
                w.str(service, "service")?;
                w.str(user, "user")?;
                w.bytes(password.expose(), "password")?;
                w.ip(*rip);
                w.ip(*lip);
                w.u8(u8::from(*secured));
                w.str(mech, "mech")?;
            }
            Request::Userdb { id, service, user } => {
                w.u8(KIND_USERDB);
                w.u32(*id);
                w.str(service, "service")?;
                w.str(user, "user")?;
            }
        }
        w.finish(out)
    }

    fn decode_body(body: &[u8]) -> Result<Self, ProtocolError> {
        Reader::frame(body, |kind, id, r| {
            Ok(match kind {
                KIND_PASSDB => Request::Passdb {
                    id,
                    service: r.string()?,
                    user: r.string()?,
                    password: Secret::new(r.bytes()?),
                    rip: r.ip()?,
                    lip: r.ip()?,
                    secured: r.bool()?,
                    mech: r.string()?,
                },
                KIND_USERDB => Request::Userdb {
                    id,
                    service: r.string()?,
                    user: r.string()?,
                },
                other => return Err(ProtocolError::UnknownKind(other)),
            })
        })
    }
}

impl WireMessage for Response {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        let mut w = Writer::default();
        match self {
            Response::Ok { id, user } => {
                w.u8(KIND_OK);
                w.u32(*id);
                w.str(&user.user, "user")?;
                w.opt_u32(user.uid);
                w.opt_u32(user.gid);
                w.opt_str(user.home.as_deref(), "home")?;
                w.opt_str(user.mail.as_deref(), "mail")?;
                let count = u16::try_from(user.extra.len())
                    .map_err(|_| ProtocolError::FieldTooLong("extra"))?;
                w.u16(count);
                for (key, value) in &user.extra {
                    w.str(key, "extra key")?;
                    w.str(value, "extra value")?;
                }
            }
            Response::Fail {
                id,
                reason,
                delay_ms,
            } => {
                w.u8(KIND_FAIL);
                w.u32(*id);
                match reason {
                    FailReason::BadCredentials => w.u8(1),
                    FailReason::UnknownUser => w.u8(2),
                    FailReason::Disallowed(text) => {
                        w.u8(3);
                        w.str(text, "reason")?;
                    }
                    FailReason::Locked => w.u8(4),
                    FailReason::TempFail(text) => {
                        w.u8(5);
                        w.str(text, "reason")?;
                    }
                }
                w.u32(*delay_ms);
            }
        }
        w.finish(out)
    }

    fn decode_body(body: &[u8]) -> Result<Self, ProtocolError> {
        Reader::frame(body, |kind, id, r| {
            Ok(match kind {
                KIND_OK => {
                    let mut user = UserRecord::new(r.string()?);
                    user.uid = r.opt_u32()?;
                    user.gid = r.opt_u32()?;
                    user.home = r.opt_string()?;
                    user.mail = r.opt_string()?;
                    let count = r.u16()?;
                    // Each pair needs at least 4 bytes: bound the allocation
                    // by what the frame can actually hold.
                    if usize::from(count) * 4 > r.rest.len() {
                        return Err(ProtocolError::Truncated);
                    }
                    user.extra = (0..count)
                        .map(|_| Ok((r.string()?, r.string()?)))
                        .collect::<Result<_, ProtocolError>>()?;
                    Response::Ok { id, user }
                }
                KIND_FAIL => {
                    let reason = match r.u8()? {
                        1 => FailReason::BadCredentials,
                        2 => FailReason::UnknownUser,
                        3 => FailReason::Disallowed(r.string()?),
                        4 => FailReason::Locked,
                        5 => FailReason::TempFail(r.string()?),
                        _ => return Err(ProtocolError::InvalidField("fail reason")),
                    };
                    Response::Fail {
                        id,
                        reason,
                        delay_ms: r.u32()?,
                    }
                }
                other => return Err(ProtocolError::UnknownKind(other)),
            })
        })
    }
}

/// Builds one frame body, then prefixes its length.
#[derive(Default)]
struct Writer {
    body: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.body.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.body.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.body.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, v: &[u8], what: &'static str) -> Result<(), ProtocolError> {
        let len = u16::try_from(v.len()).map_err(|_| ProtocolError::FieldTooLong(what))?;
        self.u16(len);
        self.body.extend_from_slice(v);
        Ok(())
    }
    fn str(&mut self, v: &str, what: &'static str) -> Result<(), ProtocolError> {
        self.bytes(v.as_bytes(), what)
    }
    fn opt_str(&mut self, v: Option<&str>, what: &'static str) -> Result<(), ProtocolError> {
        match v {
            None => {
                self.u8(0);
                Ok(())
            }
            Some(s) => {
                self.u8(1);
                self.str(s, what)
            }
        }
    }
    fn opt_u32(&mut self, v: Option<u32>) {
        match v {
            None => self.u8(0),
            Some(n) => {
                self.u8(1);
                self.u32(n);
            }
        }
    }
    fn ip(&mut self, v: Option<IpAddr>) {
        match v {
            None => self.u8(0),
            Some(IpAddr::V4(a)) => {
                self.u8(4);
                self.body.extend_from_slice(&a.octets());
            }
            Some(IpAddr::V6(a)) => {
                self.u8(6);
                self.body.extend_from_slice(&a.octets());
            }
        }
    }
    fn finish(self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        if self.body.len() > MAX_FRAME_LEN {
            return Err(ProtocolError::FrameTooLarge(self.body.len()));
        }
        // Cannot truncate: MAX_FRAME_LEN fits in u32.
        out.extend_from_slice(&(self.body.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.body);
        Ok(())
    }
}

/// Reads fields from one frame body; every read is bounds-checked.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads one frame body: its kind and request id, then what `fields`
    /// reads for that kind; bytes left over are an error.
    fn frame<T>(
        body: &'a [u8],
        fields: impl FnOnce(u8, u32, &mut Self) -> Result<T, ProtocolError>,
    ) -> Result<T, ProtocolError> {
        let mut r = Reader { rest: body };
        let kind = r.u8()?;
        let id = r.u32()?;
        let message = fields(kind, id, &mut r)?;
        r.end()?;
        Ok(message)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        if n > self.rest.len() {
            return Err(ProtocolError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, ProtocolError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, ProtocolError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn bool(&mut self) -> Result<bool, ProtocolError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(ProtocolError::InvalidField("bool")),
        }
    }
    fn bytes(&mut self) -> Result<Vec<u8>, ProtocolError> {
        let len = usize::from(self.u16()?);
        Ok(self.take(len)?.to_vec())
    }
    fn string(&mut self) -> Result<String, ProtocolError> {
        let len = usize::from(self.u16()?);
        let raw = self.take(len)?;
        std::str::from_utf8(raw)
            .map(str::to_string)
            .map_err(|_| ProtocolError::InvalidField("string is not UTF-8"))
    }
    fn opt_string(&mut self) -> Result<Option<String>, ProtocolError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.string()?)),
            _ => Err(ProtocolError::InvalidField("option tag")),
        }
    }
    fn opt_u32(&mut self) -> Result<Option<u32>, ProtocolError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u32()?)),
            _ => Err(ProtocolError::InvalidField("option tag")),
        }
    }
    fn ip(&mut self) -> Result<Option<IpAddr>, ProtocolError> {
        match self.u8()? {
            0 => Ok(None),
            4 => Ok(Some(IpAddr::V4(Ipv4Addr::from(self.array::<4>()?)))),
            6 => Ok(Some(IpAddr::V6(Ipv6Addr::from(self.array::<16>()?)))),
            _ => Err(ProtocolError::InvalidField("ip tag")),
        }
    }
    fn end(&self) -> Result<(), ProtocolError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(ProtocolError::TrailingBytes(n)),
        }
    }
}

/// Incremental decoder for one direction of a connection. Push received
/// bytes, then call `next_message` until it returns `Ok(None)`. Any error is fatal
/// for the connection: the decoder refuses further work.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
    poisoned: bool,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Buffers received bytes.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        if self.poisoned {
            return Err(ProtocolError::Poisoned);
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.len() + bytes.len() > MAX_BUFFERED {
            self.poisoned = true;
            return Err(ProtocolError::BufferFull);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_message<M: WireMessage>(&mut self) -> Result<Option<M>, ProtocolError> {
        if self.poisoned {
            return Err(ProtocolError::Poisoned);
        }
        let pending = &self.buf[self.start..];
        let Some(prefix) = pending.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*prefix) as usize;
        if len > MAX_FRAME_LEN {
            self.poisoned = true;
            return Err(ProtocolError::FrameTooLarge(len));
        }
        let Some(body) = pending.get(4..4 + len) else {
            return Ok(None);
        };
        let decoded = M::decode_body(body);
        self.start += 4 + len;
        match decoded {
            Ok(message) => Ok(Some(message)),
            Err(e) => {
                self.poisoned = true;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::XorShift64;

    fn passdb(id: u32) -> Request {
        Request::Passdb {
            id,
            service: "imap".into(),
            user: "jane@example.org".into(),
            password: Secret::from("sëcret"),
            rip: Some("192.0.2.1".parse().unwrap()),
            lip: Some("2001:db8::1".parse().unwrap()),
            secured: true,
            mech: "PLAIN".into(),
        }
    }

    fn responses() -> Vec<Response> {
        let mut user = UserRecord::new("jane");
        user.uid = Some(5000);
        user.gid = Some(5001);
        user.home = Some("/var/mail/jane/".into());
        user.extra = vec![("quota_rule".into(), "*:storage=1G".into())];
        vec![
            Response::Ok { id: 1, user },
            Response::Ok {
                id: 2,
                user: UserRecord::new("bob"),
            },
            Response::Fail {
                id: 3,
                reason: FailReason::BadCredentials,
                delay_ms: 2000,
            },
            Response::Fail {
                id: 4,
                reason: FailReason::UnknownUser,
                delay_ms: 0,
            },
            Response::Fail {
                id: 5,
                reason: FailReason::Disallowed("UID 12 not permitted".into()),
                delay_ms: 1,
            },
            Response::Fail {
                id: 6,
                reason: FailReason::Locked,
                delay_ms: 7,
            },
            Response::Fail {
                id: u32::MAX,
                reason: FailReason::TempFail("PAM unavailable".into()),
                delay_ms: u32::MAX,
            },
        ]
    }

    #[test]
    fn requests_round_trip_pipelined() {
        let sent = vec![
            passdb(1),
            Request::Userdb {
                id: 2,
                service: "pop3".into(),
                user: "bob".into(),
            },
            Request::Passdb {
                id: 3,
                service: String::new(),
                user: "x".into(),
                password: Secret::default(),
                rip: None,
                lip: None,
                secured: false,
                mech: "LOGIN".into(),
            },
        ];
        let mut wire = Vec::new();
        for r in &sent {
            r.encode(&mut wire).unwrap();
        }
        let mut dec = FrameDecoder::new();
        dec.push(&wire).unwrap();
        let mut got = Vec::new();
        while let Some(r) = dec.next_message::<Request>().unwrap() {
            got.push(r);
        }
        assert_eq!(got, sent);
        assert_eq!(dec.buffered(), 0);
        assert_eq!(got[1].id(), 2);
    }

    #[test]
    fn responses_round_trip_byte_by_byte() {
        let sent = responses();
        let mut wire = Vec::new();
        for r in &sent {
            r.encode(&mut wire).unwrap();
        }
        let mut dec = FrameDecoder::new();
        let mut got = Vec::new();
        for b in &wire {
            dec.push(std::slice::from_ref(b)).unwrap();
            while let Some(r) = dec.next_message::<Response>().unwrap() {
                got.push(r);
            }
        }
        assert_eq!(got, sent);
        assert_eq!(got.last().map(Response::id), Some(u32::MAX));
    }

    #[test]
    fn oversized_frames_are_refused_without_allocating() {
        let mut dec = FrameDecoder::new();
        dec.push(&u32::MAX.to_be_bytes()).unwrap();
        assert_eq!(
            dec.next_message::<Request>(),
            Err(ProtocolError::FrameTooLarge(u32::MAX as usize))
        );
        assert_eq!(dec.next_message::<Request>(), Err(ProtocolError::Poisoned));
        assert_eq!(dec.push(b"x"), Err(ProtocolError::Poisoned));

        let mut dec = FrameDecoder::new();
        assert_eq!(
            dec.push(&vec![0u8; MAX_BUFFERED + 1]),
            Err(ProtocolError::BufferFull)
        );

        let huge = Request::Userdb {
            id: 1,
            service: "imap".into(),
            user: "u".repeat(70_000),
        };
        assert_eq!(
            huge.encode(&mut Vec::new()),
            Err(ProtocolError::FieldTooLong("user"))
        );
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let cases: &[(&[u8], ProtocolError)] = &[
            (&[9, 0, 0, 0, 1], ProtocolError::UnknownKind(9)),
            (&[KIND_USERDB, 0, 0], ProtocolError::Truncated),
            (
                &[KIND_USERDB, 0, 0, 0, 1, 0, 0, 0, 0, 7],
                ProtocolError::TrailingBytes(1),
            ),
            (
                &[KIND_USERDB, 0, 0, 0, 1, 0, 1, 0xff, 0, 0],
                ProtocolError::InvalidField("string is not UTF-8"),
            ),
            (
                &[KIND_USERDB, 0, 0, 0, 1, 0, 9, b'a'],
                ProtocolError::Truncated,
            ),
        ];
        for (body, err) in cases {
            assert_eq!(Request::decode_body(body).as_ref(), Err(err), "{body:?}");
        }
        // A response claiming 65535 extra fields in a tiny frame.
        let body = [KIND_OK, 0, 0, 0, 1, 0, 1, b'u', 0, 0, 0, 0, 0xff, 0xff];
        assert_eq!(Response::decode_body(&body), Err(ProtocolError::Truncated));
        let body = [KIND_FAIL, 0, 0, 0, 1, 9, 0, 0, 0, 0];
        assert_eq!(
            Response::decode_body(&body),
            Err(ProtocolError::InvalidField("fail reason"))
        );
    }

    #[test]
    fn passwords_do_not_show_in_debug() {
        assert!(!format!("{:?}", passdb(1)).contains("sëcret"));
    }

    /// Fuzz-style: random bytes and random corruptions of valid frames
    /// must give messages or errors, never a panic, and the decoder never
    /// holds more than it was given.
    #[test]
    fn random_input_never_panics() {
        let mut rng = XorShift64::new(0x9e37_79b9_7f4a_7c15);
        let mut rand = move || rng.next_u64();
        let mut valid = Vec::new();
        passdb(7).encode(&mut valid).unwrap();
        for r in responses() {
            r.encode(&mut valid).unwrap();
        }
        let mut decoded_some = 0;
        for round in 0..3000 {
            let mut input: Vec<u8> = if round % 2 == 0 {
                (0..rand() % 300).map(|_| rand() as u8).collect()
            } else {
                let mut v = valid.clone();
                for _ in 0..1 + rand() % 4 {
                    let i = (rand() as usize) % v.len();
                    v[i] = rand() as u8;
                }
                v
            };
            if round % 3 == 0 {
                // Keep lengths small so random frames complete.
                input.splice(0..0, [0, 0, 0, (rand() % 40) as u8]);
            }
            for as_request in [true, false] {
                let mut dec = FrameDecoder::new();
                let _ = dec.push(&input);
                assert!(dec.buffered() <= input.len());
                for _ in 0..64 {
                    let step = if as_request {
                        dec.next_message::<Request>().map(|m| m.is_some())
                    } else {
                        dec.next_message::<Response>().map(|m| m.is_some())
                    };
                    match step {
                        Ok(true) => decoded_some += 1,
                        Ok(false) | Err(_) => break,
                    }
                }
            }
        }
        assert!(
            decoded_some > 0,
            "corrupted-but-valid frames should sometimes decode"
        );
    }
}
