//! Status responses (OK / NO / BAD / PREAUTH / BYE) and response codes.

use super::{EncodeOptions, write_number};
use crate::imap::codec::types::{Atom, FlagPerm, SequenceSet, Tag};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

/// `[CODE ...]` of a status response (RFC 9051 7.1, RFC 5530, RFC 4315,
/// RFC 7162, RFC 4978, RFC 6154, RFC 7889, RFC 3516).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseCode {
    Alert,
    /// Charsets the server does support (may be empty).
    BadCharset(Vec<Atom>),
    Capability(Vec<Atom>),
    Parse,
    PermanentFlags(Vec<FlagPerm>),
    ReadOnly,
    ReadWrite,
    TryCreate,
    UidNext(u32),
    UidValidity(u32),
    Unseen(u32),
    AppendUid {
        uid_validity: u32,
        uids: SequenceSet,
    },
    CopyUid {
        uid_validity: u32,
        source: SequenceSet,
        destination: SequenceSet,
    },
    UidNotSticky,
    HighestModSeq(u64),
    NoModSeq,
    Modified(SequenceSet),
    Closed,
    AlreadyExists,
    Nonexistent,
    Cannot,
    Limit,
    OverQuota,
    ServerBug,
    InUse,
    AuthenticationFailed,
    AuthorizationFailed,
    PrivacyRequired,
    ContactAdmin,
    NoPerm,
    ExpungeIssued,
    Corruption,
    Unavailable,
    Expired,
    CompressionActive,
    NotSaved,
    HasChildren,
    ClientBug,
    TooBig,
    UnknownCte,
    UseAttr,
    /// Any other code, with optional text after it.
    Other(Atom, Option<String>),
}

impl ResponseCode {
    fn write(&self, out: &mut Vec<u8>) {
        use ResponseCode as C;
        let simple: &str = match self {
            C::Alert => "ALERT",
            C::Parse => "PARSE",
            C::ReadOnly => "READ-ONLY",
            C::ReadWrite => "READ-WRITE",
            C::TryCreate => "TRYCREATE",
            C::UidNotSticky => "UIDNOTSTICKY",
            C::NoModSeq => "NOMODSEQ",
            C::Closed => "CLOSED",
            C::AlreadyExists => "ALREADYEXISTS",
            C::Nonexistent => "NONEXISTENT",
            C::Cannot => "CANNOT",
            C::Limit => "LIMIT",
            C::OverQuota => "OVERQUOTA",
            C::ServerBug => "SERVERBUG",
            C::InUse => "INUSE",
            C::AuthenticationFailed => "AUTHENTICATIONFAILED",
            C::AuthorizationFailed => "AUTHORIZATIONFAILED",
            C::PrivacyRequired => "PRIVACYREQUIRED",
            C::ContactAdmin => "CONTACTADMIN",
            C::NoPerm => "NOPERM",
            C::ExpungeIssued => "EXPUNGEISSUED",
            C::Corruption => "CORRUPTION",
            C::Unavailable => "UNAVAILABLE",
            C::Expired => "EXPIRED",
            C::CompressionActive => "COMPRESSIONACTIVE",
            C::NotSaved => "NOTSAVED",
            C::HasChildren => "HASCHILDREN",
            C::ClientBug => "CLIENTBUG",
            C::TooBig => "TOOBIG",
            C::UnknownCte => "UNKNOWN-CTE",
            C::UseAttr => "USEATTR",
            C::BadCharset(list) => {
                out.extend_from_slice(b"BADCHARSET");
                if !list.is_empty() {
                    out.extend_from_slice(b" (");
                    write_atoms(out, list);
                    out.push(b')');
                }
                return;
            }
            C::Capability(caps) => {
                out.extend_from_slice(b"CAPABILITY ");
                write_atoms(out, caps);
                return;
            }
            C::PermanentFlags(flags) => {
                out.extend_from_slice(b"PERMANENTFLAGS (");
                for (i, f) in flags.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    match f {
                        FlagPerm::Flag(f) => f.write(out),
                        FlagPerm::AnyKeyword => out.extend_from_slice(b"\\*"),
                    }
                }
                out.push(b')');
                return;
            }
            C::UidNext(n) => return write_code_number(out, "UIDNEXT", u64::from(*n)),
            C::UidValidity(n) => return write_code_number(out, "UIDVALIDITY", u64::from(*n)),
            C::Unseen(n) => return write_code_number(out, "UNSEEN", u64::from(*n)),
            C::HighestModSeq(n) => return write_code_number(out, "HIGHESTMODSEQ", *n),
            C::AppendUid { uid_validity, uids } => {
                write_code_number(out, "APPENDUID", u64::from(*uid_validity));
                out.push(b' ');
                uids.write(out);
                return;
            }
            C::CopyUid {
                uid_validity,
                source,
                destination,
            } => {
                write_code_number(out, "COPYUID", u64::from(*uid_validity));
                out.push(b' ');
                source.write(out);
                out.push(b' ');
                destination.write(out);
                return;
            }
            C::Modified(set) => {
                out.extend_from_slice(b"MODIFIED ");
                set.write(out);
                return;
            }
            C::Other(atom, text) => {
                out.extend_from_slice(atom.as_str().as_bytes());
                if let Some(text) = text {
                    out.push(b' ');
                    // resp-text-code text may not contain `]`.
                    write_text(out, text, |b| b != b']');
                }
                return;
            }
        };
        out.extend_from_slice(simple.as_bytes());
    }
}

fn write_code_number(out: &mut Vec<u8>, name: &str, n: u64) {
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    write_number(out, n);
}

pub(crate) fn write_atoms(out: &mut Vec<u8>, atoms: &[Atom]) {
    for (i, a) in atoms.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(a.as_str().as_bytes());
    }
}

/// Human-readable text: CR, LF and NUL (and whatever `keep` refuses) become
/// spaces so the text can never end the line early.
fn write_text(out: &mut Vec<u8>, text: &str, keep: impl Fn(u8) -> bool) {
    out.extend(text.bytes().map(|b| {
        if matches!(b, b'\r' | b'\n' | 0) || !keep(b) {
            b' '
        } else {
            b
        }
    }));
}

/// `tag OK [CODE] text`, `* NO ...`, `* BYE ...`, `* PREAUTH ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusResponse {
    /// `None` for an untagged response.
    pub tag: Option<Tag>,
    pub status: Status,
    pub code: Option<ResponseCode>,
    pub text: String,
}

impl StatusResponse {
    pub fn tagged(tag: Tag, status: Status, text: impl Into<String>) -> Self {
        StatusResponse {
            tag: Some(tag),
            status,
            code: None,
            text: text.into(),
        }
    }

    pub fn untagged(status: Status, text: impl Into<String>) -> Self {
        StatusResponse {
            tag: None,
            status,
            code: None,
            text: text.into(),
        }
    }

    pub fn with_code(mut self, code: ResponseCode) -> Self {
        self.code = Some(code);
        self
    }

    pub fn encode(&self, out: &mut Vec<u8>, _opts: EncodeOptions) {
        match &self.tag {
            Some(tag) => out.extend_from_slice(tag.as_str().as_bytes()),
            None => out.push(b'*'),
        }
        out.extend_from_slice(match self.status {
            Status::Ok => b" OK",
            Status::No => b" NO",
            Status::Bad => b" BAD",
            Status::PreAuth => b" PREAUTH",
            Status::Bye => b" BYE",
        });
        if let Some(code) = &self.code {
            out.extend_from_slice(b" [");
            code.write(out);
            out.push(b']');
        }
        // RFC 3501 requires text after the status (and after a code);
        // rev2 relaxed it, but old clients still expect something.
        out.push(b' ');
        if self.text.is_empty() {
            out.extend_from_slice(b"done");
        } else {
            write_text(out, &self.text, |_| true);
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::codec::types::{Flag, SequenceSet};

    fn enc(r: &StatusResponse) -> Vec<u8> {
        let mut out = Vec::new();
        r.encode(&mut out, EncodeOptions::default());
        out
    }

    fn tag() -> Tag {
        Tag::try_from("a1").unwrap()
    }

    #[test]
    fn simple_codes() {
        let r = StatusResponse::tagged(tag(), Status::Ok, "SELECT completed")
            .with_code(ResponseCode::ReadWrite);
        assert_eq!(enc(&r), b"a1 OK [READ-WRITE] SELECT completed\r\n");
        let r = StatusResponse::untagged(Status::Bye, "bye\r\nx");
        assert_eq!(enc(&r), b"* BYE bye  x\r\n");
        let r = StatusResponse::tagged(tag(), Status::No, "").with_code(ResponseCode::TryCreate);
        assert_eq!(enc(&r), b"a1 NO [TRYCREATE] done\r\n");
    }

    #[test]
    fn codes_with_data() {
        let cases: Vec<(ResponseCode, &[u8])> = vec![
            (ResponseCode::UidNext(42), b"UIDNEXT 42"),
            (
                ResponseCode::HighestModSeq(1 << 40),
                b"HIGHESTMODSEQ 1099511627776",
            ),
            (
                ResponseCode::AppendUid {
                    uid_validity: 38505,
                    uids: SequenceSet::from_numbers(&[3955, 3956, 3957]).unwrap(),
                },
                b"APPENDUID 38505 3955:3957",
            ),
            (
                ResponseCode::CopyUid {
                    uid_validity: 38505,
                    source: SequenceSet::from_numbers(&[304, 319, 320]).unwrap(),
                    destination: SequenceSet::from_numbers(&[3956, 3957, 3958]).unwrap(),
                },
                b"COPYUID 38505 304,319:320 3956:3958",
            ),
            (
                ResponseCode::PermanentFlags(vec![
                    FlagPerm::Flag(Flag::Seen),
                    FlagPerm::Flag(Flag::Deleted),
                    FlagPerm::AnyKeyword,
                ]),
                b"PERMANENTFLAGS (\\Seen \\Deleted \\*)",
            ),
            (
                ResponseCode::Capability(vec![
                    Atom::try_from("IMAP4rev2").unwrap(),
                    Atom::try_from("AUTH=PLAIN").unwrap(),
                ]),
                b"CAPABILITY IMAP4rev2 AUTH=PLAIN",
            ),
            (ResponseCode::BadCharset(vec![]), b"BADCHARSET"),
            (
                ResponseCode::BadCharset(vec![Atom::try_from("UTF-8").unwrap()]),
                b"BADCHARSET (UTF-8)",
            ),
            (
                ResponseCode::Modified(SequenceSet::from_numbers(&[7, 9]).unwrap()),
                b"MODIFIED 7,9",
            ),
            (
                ResponseCode::Other(Atom::try_from("X-FOO").unwrap(), Some("a]b".into())),
                b"X-FOO a b",
            ),
            (ResponseCode::AuthenticationFailed, b"AUTHENTICATIONFAILED"),
            (ResponseCode::UnknownCte, b"UNKNOWN-CTE"),
        ];
        for (code, want) in cases {
            let mut out = Vec::new();
            code.write(&mut out);
            assert_eq!(out, want, "{code:?}");
        }
    }
}
