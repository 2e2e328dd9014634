//! IMAP on a Maildir: mail that another program drops into `new/` shows up
//! at the client's next NOOP.

mod common;

use common::{DEMO_USER, Options, Server};

#[test]
fn noop_sees_mail_delivered_by_another_program() {
    let base = common::TempDir::new("maildir");
    let srv = Server::start(Options {
        extra_config: format!(
            "mail_location = maildir:{}/maildirs/%n\n",
            base.path().display()
        ),
        ..Options::default()
    });
    let mut c = common::selected_with_one_message(&srv);

    // An MDA delivers the Maildir way: write in tmp/, rename into new/.
    let maildir = base.path().join("maildirs").join(DEMO_USER);
    assert!(
        maildir.join("new").is_dir(),
        "no Maildir at {}",
        maildir.display()
    );
    let tmp = maildir.join("tmp/1764300000.M1P1.external");
    std::fs::write(&tmp, "Subject: external\n\nhello\n").unwrap();
    std::fs::rename(&tmp, maildir.join("new/1764300000.M1P1.external")).unwrap();

    c.send("d NOOP");
    let r = c.until("d ");
    assert!(r.iter().any(|l| l == "* 2 EXISTS"), "{r:?}");
    c.send("e FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    let r = c.until("e ");
    assert!(r.iter().any(|l| l == "Subject: external"), "{r:?}");
}
