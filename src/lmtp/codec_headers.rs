//! Trace headers added on local delivery, in Dovecot 2.3's exact form so
//! that mail delivered by tern looks the same to filters and users.
//!
//! Dovecot (src/lmtp/lmtp-local.c and lib-smtp's transaction trace record)
//! prepends, in this order (continuation lines start with a TAB, shown
//! indented here):
//!
//! ```text
//! Return-Path: <sender>
//! Delivered-To: rcpt@domain                      (no brackets!)
//! Received: from LHLO-DOMAIN ([IP])
//!     (using TLS-DESCRIPTION)                     (only over TLS)
//!     by HOSTNAME with LMTP[S]
//!     id SESSION-ID
//!     (envelope-from <sender>)
//!     for <rcpt@domain>; Sat, 28 Nov 2026 13:37:31 +0100
//! ```
//!
//! `Delivered-To:` and the `for` clause are written only when the
//! transaction has exactly one recipient (Dovecot's
//! `lmtp_hdr_delivery_address = final`); with several they are left out.
//! The LHLO domain is replaced by `unknown` when it was not a valid domain,
//! the `([IP])` part is omitted for unix-socket connections, and the
//! protocol gets an `S` suffix over TLS. The date is RFC 5322 with a
//! two-digit day, as Dovecot's `message_date_create` writes it.

use std::net::IpAddr;

use super::codec_path::{ReversePath, SmtpAddress};

/// `Return-Path: <sender>\r\n` (`<>` for the null sender).
pub fn return_path_header(sender: &ReversePath) -> String {
    format!("Return-Path: <{}>\r\n", sanitise(&sender.encode()))
}

/// `Delivered-To: rcpt\r\n`, without brackets, as Dovecot writes it.
pub fn delivered_to_header(recipient: &SmtpAddress) -> String {
    format!("Delivered-To: {}\r\n", sanitise(&recipient.encode()))
}

/// Everything that goes into the `Received:` header.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedHeader<'a> {
    /// The LHLO argument, if it was a valid domain or address literal.
    pub lhlo_domain: Option<&'a str>,
    /// The client's address; `None` for unix sockets.
    pub remote_ip: Option<IpAddr>,
    /// TLS description, e.g. `TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
    /// (256/256 bits)`; `None` for cleartext.
    pub tls: Option<&'a str>,
    /// Our host name (`hostname` setting).
    pub hostname: &'a str,
    /// The transaction id, also sent in the `250 … Saved` replies.
    pub session_id: &'a str,
    pub envelope_from: &'a ReversePath,
    /// The single recipient; `None` when there were several.
    pub recipient: Option<&'a SmtpAddress>,
    /// Seconds since the Unix epoch, when DATA started.
    pub unix_time: i64,
    /// The server's offset from UTC in minutes at `unix_time`.
    pub utc_offset_minutes: i32,
}

impl ReceivedHeader<'_> {
    /// The header with its CRLF.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("Received: from ");
        out.push_str(&sanitise(self.lhlo_domain.unwrap_or("unknown")));
        if let Some(ip) = self.remote_ip {
            out.push_str(&format!(" ([{ip}])"));
        }
        if let Some(tls) = self.tls {
            out.push_str(&format!("\r\n\t(using {})", sanitise(tls)));
        }
        let protocol = if self.tls.is_some() { "LMTPS" } else { "LMTP" };
        out.push_str(&format!(
            "\r\n\tby {} with {protocol}\r\n\tid {}\r\n\t(envelope-from <{}>)",
            sanitise(self.hostname),
            sanitise(self.session_id),
            sanitise(&self.envelope_from.encode()),
        ));
        if let Some(recipient) = self.recipient {
            out.push_str(&format!("\r\n\tfor <{}>", sanitise(&recipient.encode())));
        }
        out.push_str("; ");
        out.push_str(&format_rfc5322_date(
            self.unix_time,
            self.utc_offset_minutes,
        ));
        out.push_str("\r\n");
        out
    }
}

/// All headers Dovecot prepends for a local delivery, in its order.
/// `Delivered-To` is included only for a single-recipient transaction.
pub fn local_delivery_headers(received: &ReceivedHeader<'_>) -> String {
    let mut out = return_path_header(received.envelope_from);
    if let Some(recipient) = received.recipient {
        out.push_str(&delivered_to_header(recipient));
    }
    out.push_str(&received.encode());
    out
}

/// Header values must not contain line breaks (a forged LHLO argument
/// could otherwise add headers).
fn sanitise(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Sat, 28 Nov 2026 13:37:31 +0100`: RFC 5322 date-time in the zone
/// `utc_offset_minutes` east of UTC (clamped to ±23:59).
pub fn format_rfc5322_date(unix_time: i64, utc_offset_minutes: i32) -> String {
    let offset = utc_offset_minutes.clamp(-(23 * 60 + 59), 23 * 60 + 59);
    let local = unix_time.saturating_add(i64::from(offset) * 60);
    let days = local.div_euclid(86_400);
    let seconds = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday, WEEKDAYS[0].
    let weekday = WEEKDAYS[days.rem_euclid(7) as usize];
    let sign = if offset < 0 { '-' } else { '+' };
    format!(
        "{weekday}, {day:02} {} {year:04} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        MONTHS[(month - 1) as usize],
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60,
        offset.abs() / 60,
        offset.abs() % 60,
    )
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31), proleptic
/// Gregorian (the well-known era-based algorithm by Howard Hinnant).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(local: &str, domain: &str) -> SmtpAddress {
        SmtpAddress::new(local, Some(domain)).unwrap()
    }

    #[test]
    fn dates() {
        assert_eq!(format_rfc5322_date(0, 0), "Thu, 01 Jan 1970 00:00:00 +0000");
        // 2026-11-28 13:37:31 UTC
        assert_eq!(
            format_rfc5322_date(1_795_873_051, 0),
            "Sat, 28 Nov 2026 13:37:31 +0000"
        );
        assert_eq!(
            format_rfc5322_date(1_795_873_051, 60),
            "Sat, 28 Nov 2026 14:37:31 +0100"
        );
        assert_eq!(
            format_rfc5322_date(1_795_873_051, -330),
            "Sat, 28 Nov 2026 08:07:31 -0530"
        );
        // Leap day and the day before the epoch.
        assert_eq!(
            format_rfc5322_date(951_782_400, 0),
            "Tue, 29 Feb 2000 00:00:00 +0000"
        );
        assert_eq!(
            format_rfc5322_date(-1, 0),
            "Wed, 31 Dec 1969 23:59:59 +0000"
        );
        // Crossing midnight backwards through the offset.
        assert_eq!(
            format_rfc5322_date(3600, -120),
            "Wed, 31 Dec 1969 23:00:00 -0200"
        );
        // Extreme inputs do not panic.
        let _ = format_rfc5322_date(i64::MAX, i32::MAX);
        let _ = format_rfc5322_date(i64::MIN, i32::MIN);
    }

    #[test]
    fn return_path_and_delivered_to() {
        assert_eq!(
            return_path_header(&ReversePath::Null),
            "Return-Path: <>\r\n"
        );
        assert_eq!(
            return_path_header(&ReversePath::Address(addr("bounce", "list.example"))),
            "Return-Path: <bounce@list.example>\r\n"
        );
        assert_eq!(
            delivered_to_header(&addr("user", "example.com")),
            "Delivered-To: user@example.com\r\n"
        );
        assert_eq!(
            delivered_to_header(&addr("john doe", "example.com")),
            "Delivered-To: \"john doe\"@example.com\r\n"
        );
    }

    #[test]
    fn received_like_dovecot() {
        let sender = ReversePath::Address(addr("alice", "sender.example"));
        let rcpt = addr("bob", "example.com");
        let header = ReceivedHeader {
            lhlo_domain: Some("mx.example.com"),
            remote_ip: Some("192.0.2.25".parse().unwrap()),
            tls: None,
            hostname: "store1.example.com",
            session_id: "0Dp0HxsaQmW0LAAAnj1Epw",
            envelope_from: &sender,
            recipient: Some(&rcpt),
            unix_time: 1_795_873_051,
            utc_offset_minutes: 60,
        };
        assert_eq!(
            header.encode(),
            "Received: from mx.example.com ([192.0.2.25])\r\n\
             \tby store1.example.com with LMTP\r\n\
             \tid 0Dp0HxsaQmW0LAAAnj1Epw\r\n\
             \t(envelope-from <alice@sender.example>)\r\n\
             \tfor <bob@example.com>; Sat, 28 Nov 2026 14:37:31 +0100\r\n"
        );
        assert_eq!(
            local_delivery_headers(&header),
            format!(
                "Return-Path: <alice@sender.example>\r\nDelivered-To: bob@example.com\r\n{}",
                header.encode()
            )
        );
    }

    #[test]
    fn received_variants() {
        let null = ReversePath::Null;
        let header = ReceivedHeader {
            lhlo_domain: None,
            remote_ip: None,
            tls: Some("TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"),
            hostname: "h",
            session_id: "id1",
            envelope_from: &null,
            recipient: None,
            unix_time: 0,
            utc_offset_minutes: 0,
        };
        assert_eq!(
            header.encode(),
            "Received: from unknown\r\n\
             \t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\
             \tby h with LMTPS\r\n\
             \tid id1\r\n\
             \t(envelope-from <>); Thu, 01 Jan 1970 00:00:00 +0000\r\n"
        );
        // Several recipients: no Delivered-To.
        assert_eq!(
            local_delivery_headers(&header),
            format!("Return-Path: <>\r\n{}", header.encode())
        );
        let v6 = ReceivedHeader {
            remote_ip: Some("2001:db8::1".parse().unwrap()),
            tls: None,
            ..header
        };
        assert!(
            v6.encode()
                .starts_with("Received: from unknown ([2001:db8::1])\r\n\tby h with LMTP\r\n")
        );
    }

    #[test]
    fn header_values_cannot_add_lines() {
        let null = ReversePath::Null;
        let header = ReceivedHeader {
            lhlo_domain: Some("evil\r\nX-Injected: 1"),
            remote_ip: None,
            tls: None,
            hostname: "h",
            session_id: "id\n",
            envelope_from: &null,
            recipient: None,
            unix_time: 0,
            utc_offset_minutes: 0,
        };
        let text = header.encode();
        assert!(!text.contains("\r\nX-Injected"));
        assert_eq!(text.matches("\r\n").count(), 4);
    }
}
