//! Section specs and part numbers as echoed in FETCH responses
//! (`BODY[1.2.HEADER.FIELDS (From To)]`, `BINARY[2]`) and sent by clients.

use super::strings::write_astring;
use super::write_number;
use crate::message::{Section, SectionText};

/// Part numbers joined by dots: `1.2.3` (nothing for the whole message).
pub fn write_part(out: &mut Vec<u8>, part: &[u32]) {
    for (i, p) in part.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        write_number(out, *p);
    }
}

/// The section spec without brackets: `1.2.HEADER.FIELDS (From To)`.
/// Field names go out as atoms where they can, as strings otherwise.
pub fn write_section(out: &mut Vec<u8>, section: &Section) {
    write_part(out, &section.part);
    let Some(text) = &section.text else { return };
    if !section.part.is_empty() {
        out.push(b'.');
    }
    let (name, fields): (&[u8], _) = match text {
        SectionText::Header => (b"HEADER", None),
        SectionText::HeaderFields(f) => (b"HEADER.FIELDS", Some(f)),
        SectionText::HeaderFieldsNot(f) => (b"HEADER.FIELDS.NOT", Some(f)),
        SectionText::Text => (b"TEXT", None),
        SectionText::Mime => (b"MIME", None),
    };
    out.extend_from_slice(name);
    if let Some(fields) = fields {
        out.extend_from_slice(b" (");
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            write_astring(out, f, false);
        }
        out.push(b')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(s: &Section) -> String {
        let mut out = Vec::new();
        write_section(&mut out, s);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn sec(part: &[u32], text: Option<SectionText>) -> Section {
        Section {
            part: part.to_vec(),
            text,
        }
    }

    #[test]
    fn section_wire_form() {
        let s = sec(
            &[1, 2],
            Some(SectionText::HeaderFields(vec![
                b"From".to_vec(),
                b"X y".to_vec(),
            ])),
        );
        assert_eq!(echo(&s), "1.2.HEADER.FIELDS (From \"X y\")");
        assert_eq!(echo(&Section::default()), "");
    }

    #[test]
    fn section_spec_echo() {
        assert_eq!(echo(&sec(&[1, 2], None)), "1.2");
        assert_eq!(echo(&sec(&[], Some(SectionText::Header))), "HEADER");
        assert_eq!(echo(&sec(&[3], Some(SectionText::Mime))), "3.MIME");
        assert_eq!(echo(&sec(&[4], Some(SectionText::Text))), "4.TEXT");
        let names = vec![b"Subject".to_vec(), b"X Odd".to_vec()];
        assert_eq!(
            echo(&sec(&[2], Some(SectionText::HeaderFieldsNot(names)))),
            "2.HEADER.FIELDS.NOT (Subject \"X Odd\")"
        );
    }

    #[test]
    fn part_numbers() {
        let mut out = Vec::new();
        write_part(&mut out, &[1, 20, u32::MAX]);
        assert_eq!(out, b"1.20.4294967295");
        out.clear();
        write_part(&mut out, &[]);
        assert!(out.is_empty());
    }
}
