//! Turns the message layer's ENVELOPE / BODYSTRUCTURE into the IMAP codec's
//! typed response values, so fetch_encode can time the codec encoders on
//! structures of real shape. (The two layers keep separate types; the
//! session will need the same mapping or `FetchItem::Preencoded`.)

use tern::imap::codec::response as codec;
use tern::message;

fn address(a: &message::Address) -> codec::Address {
    codec::Address {
        name: a.name.clone(),
        adl: a.adl.clone(),
        mailbox: a.mailbox.clone(),
        host: a.host.clone(),
    }
}

fn addresses(list: &[message::Address]) -> Vec<codec::Address> {
    list.iter().map(address).collect()
}

pub fn envelope(e: &message::Envelope) -> codec::Envelope {
    codec::Envelope {
        date: e.date.clone(),
        subject: e.subject.clone(),
        from: addresses(&e.from),
        sender: addresses(&e.sender),
        reply_to: addresses(&e.reply_to),
        to: addresses(&e.to),
        cc: addresses(&e.cc),
        bcc: addresses(&e.bcc),
        in_reply_to: e.in_reply_to.clone(),
        message_id: e.message_id.clone(),
    }
}

fn fields(f: &message::BodyFields) -> codec::BodyFields {
    codec::BodyFields {
        params: f.params.clone(),
        id: f.id.clone(),
        description: f.description.clone(),
        encoding: f.encoding.clone(),
        octets: u32::try_from(f.octets).unwrap_or(u32::MAX),
    }
}

fn extension(x: &message::Extension) -> codec::BodyExtension {
    codec::BodyExtension {
        disposition: x.disposition.as_ref().map(|d| codec::Disposition {
            kind: d.kind.clone(),
            params: d.params.clone(),
        }),
        language: x.language.clone(),
        location: x.location.clone(),
    }
}

fn lines(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub fn body_structure(b: &message::BodyStructure) -> codec::BodyStructure {
    use message::BodyStructure as M;
    let single =
        |f: &message::BodyFields, x: &message::Extension, kind| codec::BodyStructure::Single {
            media_type: f.media_type.clone(),
            subtype: f.subtype.clone(),
            fields: fields(f),
            kind,
            md5: x.md5.clone(),
            extension: extension(x),
        };
    match b {
        M::Basic { fields: f, ext } => single(f, ext, codec::SinglePartKind::Basic),
        M::Text {
            fields: f,
            lines: n,
            ext,
        } => single(f, ext, codec::SinglePartKind::Text { lines: lines(*n) }),
        M::Message {
            fields: f,
            envelope: e,
            body,
            lines: n,
            ext,
        } => single(
            f,
            ext,
            codec::SinglePartKind::Message {
                envelope: Box::new(envelope(e)),
                body: Box::new(body_structure(body)),
                lines: lines(*n),
            },
        ),
        M::Multipart {
            parts,
            subtype,
            params,
            ext,
        } => codec::BodyStructure::Multipart {
            parts: parts.iter().map(body_structure).collect(),
            subtype: subtype.clone(),
            params: params.clone(),
            extension: extension(ext),
        },
    }
}
