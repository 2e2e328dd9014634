use super::*;

#[test]
fn full_message_url() {
    let u = parse("imap://joe;AUTH=*@mail.example.org:993/Work%2FSub/Drafts;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2.MIME/;PARTIAL=0.1024").unwrap();
    let server = u.server.as_ref().unwrap();
    assert_eq!(server.user.as_deref(), Some("joe"));
    assert_eq!(server.auth.as_deref(), Some("*"));
    assert_eq!(server.host, "mail.example.org");
    assert_eq!(server.port, Some(993));
    assert_eq!(u.mailbox.as_deref(), Some("Work/Sub/Drafts"));
    assert_eq!(u.uid_validity, Some(385_759_045));
    assert_eq!(u.uid, Some(20));
    assert_eq!(u.section.as_deref(), Some("1.2.MIME"));
    assert_eq!(
        u.partial,
        Some(Partial {
            offset: 0,
            length: Some(1024)
        })
    );
    assert!(u.urlauth.is_none());
}

#[test]
fn parameters_are_case_insensitive_and_decoded() {
    let u = parse("IMAP://a%40b@h/INBOX/;uid=5/;section=HEADER.FIELDS%20(SUBJECT)").unwrap();
    assert_eq!(u.server.unwrap().user.as_deref(), Some("a@b"));
    assert_eq!(u.mailbox.as_deref(), Some("INBOX"));
    assert_eq!(u.uid, Some(5));
    assert_eq!(u.section.as_deref(), Some("HEADER.FIELDS (SUBJECT)"));
}

#[test]
fn urlauth_rump_and_token() {
    let text = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038";
    let u = parse(text).unwrap();
    let auth = u.urlauth.as_ref().unwrap();
    assert_eq!(auth.access, Access::Submit("fred".into()));
    assert_eq!(auth.mechanism.as_deref(), Some("internal"));
    assert_eq!(auth.token.as_ref().unwrap().len(), 16);
    assert_eq!(
        auth.rump,
        "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred"
    );
    assert_eq!(u.to_string(), text);

    let rump = parse("imap://joe@h/INBOX/;UID=1;URLAUTH=anonymous").unwrap();
    let auth = rump.urlauth.unwrap();
    assert_eq!(auth.access, Access::Anonymous);
    assert_eq!(auth.mechanism, None);
    assert_eq!(auth.rump, "imap://joe@h/INBOX/;UID=1;URLAUTH=anonymous");
    for (access, want) in [
        ("authuser", Access::AuthUser),
        ("user+ann", Access::User("ann".into())),
    ] {
        let u = parse(&format!("imap://joe@h/INBOX/;UID=1;URLAUTH={access}")).unwrap();
        assert_eq!(u.urlauth.unwrap().access, want);
    }
}

#[test]
fn expire_is_read_as_unix_time() {
    let u =
        parse("imap://joe@h/INBOX/;UID=1;EXPIRE=2023-11-14T22:13:20Z;URLAUTH=authuser").unwrap();
    assert_eq!(u.urlauth.unwrap().expire, Some(1_700_000_000));
    let u = parse("imap://joe@h/INBOX/;UID=1;EXPIRE=2023-11-14T23:13:20.5+01:00;URLAUTH=authuser")
        .unwrap();
    assert_eq!(u.urlauth.unwrap().expire, Some(1_700_000_000));
    assert_eq!(
        parse("imap://joe@h/INBOX/;UID=1;EXPIRE=2023-11-14;URLAUTH=authuser"),
        Err(UrlError::BadExpire)
    );
    // EXPIRE alone means nothing.
    assert!(parse("imap://joe@h/INBOX/;UID=1;EXPIRE=2023-11-14T22:13:20Z").is_err());
}

#[test]
fn references_relative_to_the_server_or_mailbox() {
    let u = parse_reference("/INBOX;UIDVALIDITY=785799047/;UID=113330/;SECTION=1.5.9").unwrap();
    assert!(u.server.is_none());
    assert_eq!(u.mailbox.as_deref(), Some("INBOX"));
    assert_eq!(u.uid_validity, Some(785_799_047));
    assert_eq!(u.uid, Some(113_330));
    assert_eq!(u.section.as_deref(), Some("1.5.9"));
    let u = parse_reference(";UID=1/;PARTIAL=0.4").unwrap();
    assert_eq!(u.mailbox, None);
    assert_eq!(u.uid, Some(1));
    assert_eq!(
        u.partial,
        Some(Partial {
            offset: 0,
            length: Some(4)
        })
    );
    assert_eq!(
        parse_reference("imap://joe@h/INBOX/;UID=1"),
        Err(UrlError::NotRelative)
    );
    assert_eq!(
        parse_reference("//h/INBOX/;UID=1"),
        Err(UrlError::NotRelative)
    );
}

#[test]
fn malformed_urls_are_refused() {
    for bad in [
        "http://h/INBOX",
        "imap://h/INBOX/;UID=0",
        "imap://h/INBOX/;UID=x",
        "imap://h/INBOX;UID=1",
        "imap://h/INBOX/;UIDVALIDITY=1",
        "imap://h/INBOX/;SECTION=1",
        "imap://h/INBOX/;UID=1;SECTION=1",
        "imap://h/INBOX/;UID=1/;PARTIAL=1.0",
        "imap://h/INBOX/;UID=1/;URLAUTH=anonymous",
        "imap://h/INBOX/;UID=1;URLAUTH=nobody",
        "imap://h/INBOX/;UID=1;URLAUTH=anonymous:internal:0000",
        "imap://h/INBOX/;UID=1;URLAUTH=anonymous:internal",
        "imap://h/INBOX;URLAUTH=anonymous",
        "imap://h/INBOX/;UID=1/;FOO=1",
        "imap://h/IN%ZZBOX",
        "imap://h/IN BOX",
        "imap://h:x/INBOX",
        "imap://@h/INBOX",
    ] {
        assert!(parse(bad).is_err(), "{bad} was accepted");
    }
    assert_eq!(parse("imap://h/INBOX?SUBJECT%20x"), Err(UrlError::Search));
}

#[test]
fn display_writes_the_canonical_form() {
    let u = ImapUrl {
        server: Some(Server {
            user: Some("a b".into()),
            auth: None,
            host: "h".into(),
            port: Some(143),
        }),
        mailbox: Some("Work/Ünï".into()),
        uid_validity: Some(7),
        uid: Some(3),
        section: Some("HEADER.FIELDS (TO)".into()),
        partial: Some(Partial {
            offset: 2,
            length: None,
        }),
        urlauth: None,
    };
    let text = u.to_string();
    assert_eq!(
        text,
        "imap://a%20b@h:143/Work/%C3%9Cn%C3%AF;UIDVALIDITY=7/;UID=3/;SECTION=HEADER.FIELDS%20(TO)/;PARTIAL=2"
    );
    assert_eq!(parse(&text).unwrap(), u);
}
