//! CATENATE (APPEND with URLs), GENURLAUTH, URLFETCH (with RFC 5524's
//! BINARY / BODYPARTSTRUCTURE and URL-PARTIAL) and RESETKEY.

use super::*;

/// `imap_urlauth_host = localhost`, as in the Dovecot reference runs.
fn urlauth_settings() -> SessionSettings {
    let mut settings = SessionSettings::default();
    settings.options.urlauth_host = "localhost".into();
    settings
}

/// One session with URLAUTH on and INBOX holding `message(1)`.
fn with_urlauth(f: impl AsyncFnOnce(&mut Client)) {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut c = mail.client_with(urlauth_settings());
        c.append("INBOX", "", &message(1)).await;
        f(&mut c).await;
    })
}

/// The message of UID `uid` in INBOX.
async fn body_of(c: &mut Client, uid: u32) -> String {
    c.ok("sel SELECT INBOX").await;
    let text = c.ok(&format!("f UID FETCH {uid} BODY.PEEK[]")).await;
    let start = text.find("}\r\n").map(|i| i + 3).unwrap_or(0);
    let end = text.rfind(")\r\nf OK").unwrap_or(text.len());
    text[start..end].to_string()
}

/// The single URL of a `* GENURLAUTH` answer.
fn generated(text: &str) -> String {
    let line = lines_with(text, "* GENURLAUTH ");
    assert_eq!(line.len(), 1, "{text}");
    line[0]["* GENURLAUTH ".len()..].to_string()
}

const RUMP: &str = "imap://test@localhost/INBOX/;UID=1;URLAUTH=anonymous";

#[test]
fn catenate_joins_text_and_url_parts() {
    with_urlauth(async |c| {
        let text = c
            .ok("a APPEND INBOX (\\Seen) CATENATE (TEXT {12+}\r\nX-New: yes\r\n URL \"/INBOX/;UID=1/;SECTION=HEADER.FIELDS%20(Subject)\" TEXT {5+}\r\nnew\r\n)")
            .await;
        assert!(text.contains(" 2] Append completed.\r\n"), "{text}");
        assert_eq!(
            body_of(c, 2).await,
            "X-New: yes\r\nSubject: note 1\r\n\r\nnew\r\n"
        );
        assert_eq!(c.s.stats.appended, 2);
    })
}

#[test]
fn catenate_relative_url_names_the_selected_mailbox_and_partial_cuts() {
    with_urlauth(async |c| {
        c.ok("s SELECT INBOX").await;
        let text = c
            .ok("a APPEND INBOX CATENATE (URL \";UID=1/;PARTIAL=0.5\" URL \";UID=1/;SECTION=1\")")
            .await;
        assert!(text.contains("* 2 EXISTS\r\n"), "{text}");
        assert_eq!(body_of(c, 2).await, "From:Body text 1.\r\n");
    })
}

#[test]
fn catenate_with_uidvalidity_checks_it() {
    with_urlauth(async |c| {
        let validity = c.ok("s STATUS INBOX (UIDVALIDITY)").await;
        let v: u32 = validity
            .split("UIDVALIDITY ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{validity}"));
        c.ok(&format!(
            "a APPEND INBOX CATENATE (URL \"/INBOX;UIDVALIDITY={v}/;UID=1\")"
        ))
        .await;
        let wrong = v.wrapping_add(1).max(1);
        assert_eq!(
            c.cmd(&format!(
                "b APPEND INBOX CATENATE (URL \"/INBOX;UIDVALIDITY={wrong}/;UID=1\")"
            ))
            .await,
            format!("b NO [BADURL /INBOX;UIDVALIDITY={wrong}/;UID=1] Invalid UIDVALIDITY\r\n")
        );
    })
}

#[test]
fn catenate_bad_urls_are_no_badurl_and_save_nothing() {
    with_urlauth(async |c| {
        for (url, reason) in [
            ("/INBOX/;UID=9", "Message not found"),
            ("/Nope/;UID=1", "Mailbox doesn't exist: Nope"),
            ("/INBOX/;UID=1/;SECTION=5", "Message part not found"),
            (
                "imap://test@localhost/INBOX/;UID=1",
                "Invalid IMAP URL: Relative URL required",
            ),
            (
                "/INBOX/;UID=1;URLAUTH=anonymous",
                "Invalid IMAP URL: `;URLAUTH=' is not allowed in this context",
            ),
            (";UID=1", "Invalid IMAP URL: No mailbox selected"),
        ] {
            let text = c
                .cmd(&format!("a APPEND INBOX CATENATE (URL \"{url}\")"))
                .await;
            assert_eq!(text, format!("a NO [BADURL {url}] {reason}\r\n"));
        }
        // MULTIAPPEND is all or nothing.
        let m = message(2);
        let text = c
            .cmd(&format!(
                "b APPEND INBOX {{{}+}}\r\n{m} CATENATE (URL \"/INBOX/;UID=7\")",
                m.len()
            ))
            .await;
        assert!(text.starts_with("b NO [BADURL "), "{text}");
        let status = c.ok("c STATUS INBOX (MESSAGES)").await;
        assert!(status.contains("(MESSAGES 1)"), "{status}");
    })
}

#[test]
fn catenate_over_the_append_limit_is_toobig() {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut settings = urlauth_settings();
        settings.options.append_limit = Some(message(1).len() as u64 + 3);
        let mut c = mail.client_with(settings);
        c.append("INBOX", "", &message(1)).await;
        assert_eq!(
            c.cmd("a APPEND INBOX CATENATE (URL \"/INBOX/;UID=1\" TEXT {4+}\r\nmore)")
                .await,
            "a NO [TOOBIG] Message too large.\r\n"
        );
    })
}

#[test]
fn genurlauth_then_urlfetch_gives_the_message() {
    with_urlauth(async |c| {
        let text = c.ok(&format!("a GENURLAUTH \"{RUMP}\" INTERNAL")).await;
        let url = generated(&text);
        let token = url
            .strip_prefix(&format!("{RUMP}:internal:"))
            .unwrap_or_else(|| panic!("{url}"));
        assert_eq!(token.len(), 42, "{url}");
        let m = message(1);
        assert_eq!(
            c.cmd(&format!("b URLFETCH {url}")).await,
            format!(
                "* URLFETCH {url} {{{}}}\r\n{m}\r\nb OK URLFETCH completed.\r\n",
                m.len()
            )
        );
        // The same rump gives the same URL while the key lasts.
        let again = c.ok(&format!("c GENURLAUTH {RUMP} INTERNAL")).await;
        assert_eq!(generated(&again), url);
    })
}

#[test]
fn urlfetch_of_a_forged_or_foreign_url_is_nil() {
    with_urlauth(async |c| {
        let url = generated(&c.ok(&format!("a GENURLAUTH {RUMP} INTERNAL")).await);
        let forged = format!("{}00", &url[..url.len() - 2]);
        let forged = if forged == url {
            format!("{}11", &url[..url.len() - 2])
        } else {
            forged
        };
        let other = url.replace("imap://test@", "imap://other@");
        let wrong_host = url.replace("@localhost/", "@example.org/");
        let user_only = "imap://test@localhost/INBOX/;UID=1;URLAUTH=user+ann:internal:0000000000000000000000000000000000000000";
        for (bad, reason) in [
            (forged.as_str(), "URLAUTH verification failed"),
            (
                other.as_str(),
                "Not permitted to fetch URLAUTH for user other",
            ),
            (wrong_host.as_str(), "Invalid URL: Inappropriate host name"),
            (user_only, "No 'user+ann' access allowed for user test"),
            (RUMP, "Invalid URL: Must be a full URLAUTH URL"),
        ] {
            assert_eq!(
                c.cmd(&format!("b URLFETCH \"{bad}\"")).await,
                format!(
                    "* URLFETCH {bad} NIL\r\n* NO Failed to fetch URLAUTH \"{bad}\": {reason}.\r\nb OK URLFETCH completed.\r\n"
                ),
                "{bad}"
            );
        }
    })
}

#[test]
fn urlfetch_binary_and_bodypartstructure() {
    with_urlauth(async |c| {
        let m = "From: a@example.org\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n\
--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAGhp\r\n--b--\r\n";
        c.append("INBOX", "", m).await;
        let rump = "imap://test@localhost/INBOX/;UID=2/;SECTION=2;URLAUTH=authuser";
        let url = generated(&c.ok(&format!("a GENURLAUTH \"{rump}\" INTERNAL")).await);
        let text = c
            .cmd(&format!("b URLFETCH ({url} BINARY BODYPARTSTRUCTURE)"))
            .await;
        assert_eq!(
            text,
            format!(
                "* URLFETCH {url} (BODYPARTSTRUCTURE (\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 4 NIL NIL NIL NIL) BINARY ~{{3}}\r\n\0hi)\r\nb OK URLFETCH completed.\r\n"
            )
        );
        // BODY (the default of the extended form) is the encoded part.
        let text = c.cmd(&format!("c URLFETCH ({url})")).await;
        assert!(
            text.starts_with(&format!("* URLFETCH {url} (BODY {{4}}\r\nAGhp)\r\n")),
            "{text}"
        );
        let text = c
            .cmd(&format!("d URLFETCH ({url} BODYPARTSTRUCTURE)"))
            .await;
        assert!(
            text.contains("\"base64\" 4 NIL NIL NIL NIL))\r\n"),
            "{text}"
        );
    })
}

#[test]
fn url_partial_cuts_the_fetched_data() {
    with_urlauth(async |c| {
        let rump =
            "imap://test@localhost/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL=5.4;URLAUTH=anonymous";
        let url = generated(&c.ok(&format!("a GENURLAUTH \"{rump}\" INTERNAL")).await);
        assert_eq!(
            c.cmd(&format!("b URLFETCH {url}")).await,
            format!("* URLFETCH {url} {{4}}\r\ntext\r\nb OK URLFETCH completed.\r\n")
        );
    })
}

#[test]
fn resetkey_invalidates_the_urls() {
    with_urlauth(async |c| {
        let url = generated(&c.ok(&format!("a GENURLAUTH {RUMP} INTERNAL")).await);
        assert_eq!(
            c.cmd("b RESETKEY INBOX INTERNAL").await,
            "b OK [URLMECH INTERNAL] Key removed.\r\n"
        );
        let text = c.ok(&format!("c URLFETCH {url}")).await;
        assert!(
            text.starts_with(&format!("* URLFETCH {url} NIL\r\n")),
            "{text}"
        );
        let renewed = generated(&c.ok(&format!("d GENURLAUTH {RUMP} INTERNAL")).await);
        assert_ne!(renewed, url);
        assert_eq!(c.cmd("e RESETKEY").await, "e OK All keys removed.\r\n");
        let text = c.ok(&format!("f URLFETCH {renewed}")).await;
        assert!(text.contains(" NIL\r\n"), "{text}");
    })
}

#[test]
fn resetkey_errors() {
    with_urlauth(async |c| {
        assert_eq!(
            c.cmd("a RESETKEY INBOX FOO").await,
            "a NO Unsupported URLAUTH mechanism.\r\n"
        );
        assert_eq!(
            c.cmd("b RESETKEY Nope").await,
            "b NO [NONEXISTENT] Mailbox doesn't exist.\r\n"
        );
    })
}

#[test]
fn genurlauth_errors_are_bad() {
    with_urlauth(async |c| {
        for (args, text) in [
            (
                format!("{RUMP} XYZ"),
                "Unsupported URLAUTH mechanism: XYZ".to_string(),
            ),
            (
                "imap://test@localhost/INBOX/;UID=1 INTERNAL".into(),
                "Invalid URL: Must be an URLAUTH rump URL".into(),
            ),
            (
                format!("{} INTERNAL", RUMP.replace("test@", "other@")),
                "Not permitted to generate URLAUTH for user other".into(),
            ),
            (
                format!("{} INTERNAL", RUMP.replace("UID=1", "UID=9")),
                "Invalid URL: Message not found".into(),
            ),
            (
                format!("{} INTERNAL", RUMP.replace("localhost", "localhost:993")),
                "Invalid URL: Inappropriate server port".into(),
            ),
            (
                format!(
                    "{} INTERNAL",
                    RUMP.replace(";URLAUTH", ";EXPIRE=2020-01-01T00:00:00Z;URLAUTH")
                ),
                "URLAUTH has already expired".into(),
            ),
        ] {
            assert_eq!(
                c.cmd(&format!("a GENURLAUTH {args}")).await,
                format!("a BAD {text}\r\n"),
                "{args}"
            );
        }
    })
}

#[test]
fn urlauth_commands_need_imap_urlauth_host() {
    with_inbox(1, async |c| {
        for cmd in [
            format!("a GENURLAUTH {RUMP} INTERNAL"),
            format!("a URLFETCH {RUMP}"),
            "a RESETKEY".to_string(),
        ] {
            assert_eq!(c.cmd(&cmd).await, "a BAD URLAUTH disabled.\r\n");
        }
        // CATENATE does not depend on it.
        c.ok("b APPEND INBOX CATENATE (URL \";UID=1\")").await;
    })
}
