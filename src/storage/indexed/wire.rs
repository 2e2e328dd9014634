//! Cutting the parts FETCH asks for out of a message's wire form.

use crate::storage::types::MessagePart;

/// `part` of a message's wire form (CRLF), cut as sdbox cuts it: a header
/// ends at the first empty line (a message opening with one has the header
/// `CRLF`; one without any is all header), ranges are clamped to the
/// message.
pub fn wire_part(wire: &[u8], part: MessagePart) -> Vec<u8> {
    match part {
        MessagePart::Whole => wire.to_vec(),
        MessagePart::Header if wire.starts_with(b"\r\n") => b"\r\n".to_vec(),
        MessagePart::Header => match memchr::memmem::find(wire, b"\r\n\r\n") {
            Some(i) => wire[..i + 4].to_vec(),
            None => wire.to_vec(),
        },
        MessagePart::Range { start, len } => {
            let from = usize::try_from(start).unwrap_or(usize::MAX).min(wire.len());
            let to = from
                .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
                .min(wire.len());
            wire[from..to].to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_parts_are_cut_like_sdbox() {
        let m = b"Subject: x\r\n\r\nbody\r\n";
        assert_eq!(wire_part(m, MessagePart::Header), b"Subject: x\r\n\r\n");
        assert_eq!(wire_part(b"\r\nbody", MessagePart::Header), b"\r\n");
        assert_eq!(wire_part(b"A: b\r\n", MessagePart::Header), b"A: b\r\n");
        let r = |start, len| wire_part(m, MessagePart::Range { start, len });
        assert_eq!(r(9, 1), b"x");
        assert_eq!(r(14, 100), b"body\r\n");
        assert!(r(1000, 5).is_empty());
        assert_eq!(wire_part(m, MessagePart::Whole), m);
    }
}
