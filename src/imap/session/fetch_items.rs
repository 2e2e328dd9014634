//! Building one FETCH response from message metadata and (when needed)
//! the raw message. Stand-in until `crate::imap::eval::fetch` lands; kept
//! to the shape that module's brief describes.

use crate::imap::codec::response::{BodyItemName, EncodeOptions, FetchEncoder, FetchItem};
use crate::imap::codec::types::{Atom, FetchAttribute, Section, SectionText};
use crate::message::{self, ParsedMessage};
use crate::storage::MessageInfo;

use super::{dates, flags};

/// Whether the attributes need the message itself (not just the index).
pub fn needs_content(attrs: &[FetchAttribute]) -> bool {
    attrs.iter().any(|a| {
        matches!(
            a,
            FetchAttribute::Envelope
                | FetchAttribute::Body
                | FetchAttribute::BodyStructure
                | FetchAttribute::BodySection { .. }
                | FetchAttribute::Binary { .. }
                | FetchAttribute::BinarySize { .. }
                | FetchAttribute::Rfc822
                | FetchAttribute::Rfc822Header
                | FetchAttribute::Rfc822Text
                | FetchAttribute::Preview { .. }
        )
    })
}

/// Non-PEEK body fetches set `\Seen` (RFC 9051 §6.4.5).
pub fn sets_seen(attrs: &[FetchAttribute]) -> bool {
    attrs.iter().any(|a| match a {
        FetchAttribute::BodySection { peek, .. } | FetchAttribute::Binary { peek, .. } => !peek,
        FetchAttribute::Rfc822 | FetchAttribute::Rfc822Text => true,
        _ => false,
    })
}

fn to_message_section(s: &Section) -> message::Section {
    message::Section {
        part: s.part.clone(),
        text: s.text.as_ref().map(|t| match t {
            SectionText::Header => message::SectionText::Header,
            SectionText::HeaderFields(f) => message::SectionText::HeaderFields(f.clone()),
            SectionText::HeaderFieldsNot(f) => message::SectionText::HeaderFieldsNot(f.clone()),
            SectionText::Text => message::SectionText::Text,
            SectionText::Mime => message::SectionText::Mime,
        }),
    }
}

/// RFC 8970 PREVIEW: start of the first text part, whitespace collapsed.
fn preview(parsed: &ParsedMessage<'_>) -> Vec<u8> {
    let mut text = String::new();
    message::search::visit_body_text(parsed.raw(), parsed.root(), &mut |t: &str| {
        for word in t.split_whitespace() {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(word);
            if text.chars().count() >= 200 {
                break;
            }
        }
        true
    });
    text.chars().take(200).collect::<String>().into_bytes()
}

/// Per-message inputs besides the attributes.
pub struct MsgView<'a> {
    pub seq: u32,
    pub info: &'a MessageInfo,
    pub recent: bool,
    pub raw: Option<&'a [u8]>,
}

/// Writes `* seq FETCH (...)` for one message. `extra_flags` adds FLAGS
/// when not asked for (after an implicit `\Seen`).
pub fn write(
    out: &mut Vec<u8>,
    m: &MsgView<'_>,
    attrs: &[FetchAttribute],
    extra_flags: bool,
    opts: EncodeOptions,
) {
    let parsed = m.raw.map(ParsedMessage::parse);
    let mut f = FetchEncoder::begin(out, m.seq);
    let mut flags_done = false;
    for a in attrs {
        match a {
            FetchAttribute::Flags => {
                flags_done = true;
                f.item(out, &FetchItem::Flags(flags::of_message(m.info, m.recent)), opts)
            }
            FetchAttribute::Uid => f.item(out, &FetchItem::Uid(m.info.uid), opts),
            FetchAttribute::InternalDate => {
                if let Some(d) = dates::from_unix(m.info.internal_date) {
                    f.item(out, &FetchItem::InternalDate(d), opts)
                }
            }
            FetchAttribute::Rfc822Size => {
                f.item(out, &FetchItem::Rfc822Size(m.info.virtual_size), opts)
            }
            FetchAttribute::ModSeq => f.item(out, &FetchItem::ModSeq(m.info.modseq), opts),
            FetchAttribute::SaveDate => f.item(
                out,
                &FetchItem::SaveDate(dates::from_unix(m.info.save_date)),
                opts,
            ),
            FetchAttribute::EmailId => {
                if let Ok(a) = Atom::try_from(format!("M{}", m.info.guid).as_str()) {
                    f.item(out, &FetchItem::EmailId(a), opts)
                }
            }
            FetchAttribute::ThreadId => f.item(out, &FetchItem::ThreadId(None), opts),
            FetchAttribute::Envelope => {
                if let Some(p) = &parsed {
                    let mut v = Vec::new();
                    p.envelope().write_imap(&mut v);
                    f.item(out, &FetchItem::Preencoded { name: "ENVELOPE", value: v }, opts);
                }
            }
            FetchAttribute::Body | FetchAttribute::BodyStructure => {
                if let Some(p) = &parsed {
                    let ext = matches!(a, FetchAttribute::BodyStructure);
                    let mut v = Vec::new();
                    p.body_structure().write_imap(&mut v, ext);
                    let name = if ext { "BODYSTRUCTURE" } else { "BODY" };
                    f.item(out, &FetchItem::Preencoded { name, value: v }, opts);
                }
            }
            FetchAttribute::BodySection {
                section, partial, ..
            } => {
                if let Some(p) = &parsed {
                    let data = p.section(&to_message_section(section));
                    let data = match (data, partial) {
                        (Ok(d), Some(pt)) => {
                            Ok(d.partial(u64::from(pt.origin), Some(u64::from(pt.length))))
                        }
                        (d, _) => d,
                    };
                    let name = BodyItemName::Body {
                        section,
                        origin: partial.map(|p| p.origin),
                    };
                    match data {
                        Ok(d) => f.body(out, name, d.bytes(p.raw())),
                        Err(_) => f.body(out, name, b""),
                    }
                }
            }
            FetchAttribute::Binary { part, partial, .. } => {
                if let Some(p) = &parsed {
                    let name = BodyItemName::Binary {
                        part,
                        origin: partial.map(|p| p.origin),
                    };
                    match p.binary(part) {
                        Ok(d) => {
                            let d = match partial {
                                Some(pt) => d.partial(u64::from(pt.origin), Some(u64::from(pt.length))),
                                None => d,
                            };
                            f.body(out, name, d.bytes(p.raw()))
                        }
                        Err(_) => f.body_nil(out, name),
                    }
                }
            }
            FetchAttribute::BinarySize { part } => {
                if let Some(p) = &parsed {
                    let size = p.binary_size(part).unwrap_or(0);
                    f.item(out, &FetchItem::BinarySize { part: part.clone(), size }, opts);
                }
            }
            FetchAttribute::Rfc822 => {
                if let Some(p) = &parsed {
                    f.body(out, BodyItemName::Rfc822, p.raw());
                }
            }
            FetchAttribute::Rfc822Header | FetchAttribute::Rfc822Text => {
                if let Some(p) = &parsed {
                    let (text, name) = if matches!(a, FetchAttribute::Rfc822Header) {
                        (message::SectionText::Header, BodyItemName::Rfc822Header)
                    } else {
                        (message::SectionText::Text, BodyItemName::Rfc822Text)
                    };
                    let sec = message::Section {
                        part: Vec::new(),
                        text: Some(text),
                    };
                    match p.section(&sec) {
                        Ok(d) => f.body(out, name, d.bytes(p.raw())),
                        Err(_) => f.body(out, name, b""),
                    }
                }
            }
            FetchAttribute::Preview { .. } => {
                if let Some(p) = &parsed {
                    f.item(out, &FetchItem::Preview(Some(preview(p))), opts);
                }
            }
        }
    }
    if extra_flags && !flags_done {
        f.item(out, &FetchItem::Flags(flags::of_message(m.info, m.recent)), opts);
    }
    f.finish(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SystemFlags;

    fn info() -> MessageInfo {
        MessageInfo {
            uid: 7,
            flags: SystemFlags::SEEN,
            keywords: vec!["$Junk".into()],
            recent: false,
            modseq: 3,
            internal_date: 0,
            save_date: 0,
            physical_size: 10,
            virtual_size: 12,
            guid: "abc".into(),
            pop3_uidl: None,
            pop3_order: None,
        }
    }

    #[test]
    fn metadata_only_fetch() {
        let i = info();
        let m = MsgView { seq: 2, info: &i, recent: true, raw: None };
        let mut out = Vec::new();
        let attrs = [FetchAttribute::Uid, FetchAttribute::Flags, FetchAttribute::Rfc822Size];
        assert!(!needs_content(&attrs));
        write(&mut out, &m, &attrs, false, EncodeOptions::default());
        assert_eq!(
            String::from_utf8_lossy(&out),
            "* 2 FETCH (UID 7 FLAGS (\\Seen \\Recent $Junk) RFC822.SIZE 12)\r\n"
        );
    }

    #[test]
    fn body_section_and_partial() {
        let i = info();
        let raw = b"Subject: hi\r\n\r\nhello world\r\n";
        let m = MsgView { seq: 1, info: &i, recent: false, raw: Some(raw) };
        let attrs = [FetchAttribute::BodySection {
            peek: true,
            section: Section { part: vec![], text: Some(SectionText::Text) },
            partial: Some(crate::imap::codec::types::Partial { origin: 6, length: 100 }),
        }];
        assert!(!sets_seen(&attrs));
        let mut out = Vec::new();
        write(&mut out, &m, &attrs, true, EncodeOptions::default());
        assert_eq!(
            String::from_utf8_lossy(&out),
            "* 1 FETCH (BODY[TEXT]<6> {7}\r\nworld\r\n FLAGS (\\Seen $Junk))\r\n"
        );
    }
}
