//! Message flags: system flags, keywords and `\*` in PERMANENTFLAGS.

use super::core::Atom;

/// A message flag. Unknown `\Name` flags are kept as `Extension`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Flag {
    Answered,
    Flagged,
    Deleted,
    Seen,
    Draft,
    /// `\Recent`: only ever sent by the server (rev1), never stored by STORE.
    Recent,
    Keyword(Atom),
    Extension(Atom),
}

impl Flag {
    /// From the wire form (`\Seen`, `$Junk`, `keyword`).
    pub fn from_atom_bytes(bytes: &[u8]) -> Option<Flag> {
        if let Some(name) = bytes.strip_prefix(b"\\") {
            let system = match name.to_ascii_uppercase().as_slice() {
                b"ANSWERED" => Flag::Answered,
                b"FLAGGED" => Flag::Flagged,
                b"DELETED" => Flag::Deleted,
                b"SEEN" => Flag::Seen,
                b"DRAFT" => Flag::Draft,
                b"RECENT" => Flag::Recent,
                _ => return Atom::try_from(name).ok().map(Flag::Extension),
            };
            return Some(system);
        }
        Atom::try_from(bytes).ok().map(Flag::Keyword)
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        let text: &str = match self {
            Flag::Answered => "\\Answered",
            Flag::Flagged => "\\Flagged",
            Flag::Deleted => "\\Deleted",
            Flag::Seen => "\\Seen",
            Flag::Draft => "\\Draft",
            Flag::Recent => "\\Recent",
            Flag::Keyword(a) => a.as_str(),
            Flag::Extension(a) => {
                out.push(b'\\');
                a.as_str()
            }
        };
        out.extend_from_slice(text.as_bytes());
    }
}

/// An entry of PERMANENTFLAGS: a flag or `\*` (new keywords allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FlagPerm {
    Flag(Flag),
    AnyKeyword,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_write() {
        for (wire, want) in [
            (&b"\\seen"[..], &b"\\Seen"[..]),
            (b"\\Foo", b"\\Foo"),
            (b"$Junk", b"$Junk"),
        ] {
            let flag = Flag::from_atom_bytes(wire).unwrap();
            let mut out = Vec::new();
            flag.write(&mut out);
            assert_eq!(out, want);
        }
        assert_eq!(Flag::from_atom_bytes(b"\\"), None);
        assert_eq!(Flag::from_atom_bytes(b"a]"), None);
    }
}
