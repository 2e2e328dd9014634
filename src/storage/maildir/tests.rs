//! Maildir format tests against the shared doc's samples, outside changes,
//! self-healing, and interop with the installed Dovecot.

use crate::storage::dovecot_rig::DovecotRig;
use crate::storage::sdbox::test_dir;
pub(super) use crate::storage::testing::{run, store_at};
use crate::storage::{AppendRequest, FlagOp, MailStore, Mailbox, MailboxName, SystemFlags};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

const BODY50: &[u8] = b"From: a@vm\nSubject: sample\n\n012345678901234567890\n";

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn reads_the_docs_dovecot_sample_and_numbers_newcomers() {
    assert_eq!(BODY50.len(), 50);
    let home = test_dir("md-sample");
    let root = home.join("Maildir");
    for d in ["cur", "new", "tmp"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(
        root.join("cur/1795865153.M514268P30822.vm,S=50,W=54:2,FS"),
        BODY50,
    )
    .unwrap();
    fs::write(
        root.join("new/1795865153.M566429P30824.vm,S=50,W=54"),
        BODY50,
    )
    .unwrap();
    fs::write(root.join("cur/1795865999.M1P1.vm,S=50,W=54:2,Rab"), BODY50).unwrap();
    fs::write(
        root.join("dovecot-uidlist"),
        "3 V1795865153 N4 G2653a71e41ba0a6b6678000083ecc375\n\
         1 :1795865153.M514268P30822.vm,S=50,W=54\n\
         2 :1795865153.M566429P30824.vm,S=50,W=54\n",
    )
    .unwrap();
    fs::write(root.join("dovecot-keywords"), "0 $Label1\n1 Work\n").unwrap();
    run(async {
        let s = store_at("maildir:~/Maildir", &home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        assert_eq!(mb.uids(), vec![1, 2, 4]);
        let st = mb.status();
        assert_eq!((st.uidvalidity, st.uidnext), (1795865153, 5));
        assert_eq!(
            crate::storage::guid::to_hex(&mb.guid()),
            "2653a71e41ba0a6b6678000083ecc375"
        );
        let m1 = mb.message(1).unwrap();
        assert_eq!(m1.flags, SystemFlags::FLAGGED | SystemFlags::SEEN);
        assert_eq!(m1.guid, "1795865153.M514268P30822.vm,S=50,W=54");
        assert_eq!((m1.physical_size, m1.virtual_size), (50, 54));
        let m4 = mb.message(4).unwrap();
        assert_eq!(m4.flags, SystemFlags::ANSWERED);
        assert_eq!(m4.keywords, vec!["$Label1", "Work"]);
        let wire = mb.read_message(2).await.unwrap();
        assert_eq!(wire.len(), 54);
        assert!(wire.starts_with(b"From: a@vm\r\n"));
    });
    // new/ was taken over into cur/ with an empty info part.
    assert!(names_in(&root.join("new")).is_empty());
    assert!(
        names_in(&root.join("cur"))
            .contains(&"1795865153.M566429P30824.vm,S=50,W=54:2,".to_string())
    );
    let ul = fs::read_to_string(root.join("dovecot-uidlist")).unwrap();
    assert!(
        ul.starts_with("3 V1795865153 N5 G2653a71e41ba0a6b6678000083ecc375\n"),
        "{ul}"
    );
    assert!(ul.ends_with("4 :1795865999.M1P1.vm,S=50,W=54\n"), "{ul}");
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn writes_dovecots_names_uidlist_and_keywords() {
    let home = test_dir("md-write");
    let root = home.join("Maildir");
    run(async {
        let s = store_at("maildir:~/Maildir", &home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        let seen = AppendRequest {
            message: b"Subject: a\r\n\r\nbody\r\n".to_vec(),
            flags: SystemFlags::SEEN,
            keywords: vec!["Work".into()],
            internal_date: Some(1_600_000_000),
            guid: Some("my-guid".into()),
            ..Default::default()
        };
        let plain = AppendRequest {
            message: b"Subject: b\r\n\r\nbody\r\n".to_vec(),
            ..Default::default()
        };
        assert_eq!(mb.append(vec![seen, plain]).await.unwrap(), vec![1, 2]);
        let cur = names_in(&root.join("cur"));
        assert_eq!(cur.len(), 1);
        assert!(cur[0].ends_with(",S=17,W=20:2,Sa"), "{cur:?}");
        let new = names_in(&root.join("new"));
        assert!(new[0].ends_with(",S=17,W=20"), "{new:?}");
        assert_eq!(
            fs::read(root.join("cur").join(&cur[0])).unwrap(),
            b"Subject: a\n\nbody\n"
        );
        let mtime = fs::metadata(root.join("cur").join(&cur[0]))
            .unwrap()
            .mtime();
        assert_eq!(mtime, 1_600_000_000, "INTERNALDATE is the file's mtime");
        assert_eq!(
            fs::read_to_string(root.join("dovecot-keywords")).unwrap(),
            "0 Work\n"
        );
        let ul = fs::read_to_string(root.join("dovecot-uidlist")).unwrap();
        let lines: Vec<&str> = ul.lines().collect();
        // Records are appended as Dovecot does; readers take N from them.
        assert!(
            lines[0].starts_with("3 V") && lines[0].contains(" G"),
            "{ul}"
        );
        assert_eq!(super::uidlist::parse(ul.as_bytes()).unwrap().next_uid, 3);
        assert!(
            lines[1].starts_with("1 Gmy-guid :") && lines[1].ends_with(",S=17,W=20"),
            "{ul}"
        );
        assert_eq!(mb.message(1).unwrap().guid, "my-guid");
        // Flags change by rename only.
        mb.store(
            &[2],
            FlagOp::Add,
            SystemFlags::DRAFT | SystemFlags::DELETED,
            &[],
            None,
        )
        .await
        .unwrap();
        let cur = names_in(&root.join("cur"));
        assert!(cur.iter().any(|n| n.ends_with(":2,DT")), "{cur:?}");
        // COPY is a hard link.
        s.create(&MailboxName::new("Archive").unwrap())
            .await
            .unwrap();
        assert!(root.join(".Archive/maildirfolder").exists());
        let arch = s.open(&MailboxName::new("Archive").unwrap()).await.unwrap();
        mb.copy_to(&[1], &arch).await.unwrap();
        let copied = names_in(&root.join(".Archive/cur"));
        assert_eq!(
            fs::metadata(root.join(".Archive/cur").join(&copied[0]))
                .unwrap()
                .nlink(),
            2
        );
        assert!(copied[0].ends_with(":2,Sa"));
        assert_eq!(
            fs::read_to_string(root.join(".Archive/dovecot-keywords")).unwrap(),
            "0 Work\n"
        );
        mb.expunge(&[2]).await.unwrap();
        assert_eq!(names_in(&root.join("cur")).len(), 1);
    });
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn sees_changes_other_programs_make() {
    let home = test_dir("md-outside");
    let root = home.join("Maildir");
    run(async {
        let s = store_at("maildir:~/Maildir", &home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        mb.append(vec![AppendRequest {
            message: b"Subject: a\r\n\r\nx\r\n".to_vec(),
            ..Default::default()
        }])
        .await
        .unwrap();
        let m0 = mb.status().highest_modseq;
        // An MDA delivers; a client of another server marks UID 1 seen.
        fs::write(root.join("new/1800000000.M1P2.other,S=3"), b"\nhi").unwrap();
        let cur1 = names_in(&root.join("cur"));
        let path1 = if cur1.is_empty() {
            let n = names_in(&root.join("new"));
            let f = n.iter().find(|x| !x.contains("other")).unwrap().clone();
            root.join("new").join(f)
        } else {
            root.join("cur").join(&cur1[0])
        };
        let stem = path1
            .file_name()
            .unwrap()
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap()
            .to_string();
        fs::rename(&path1, root.join("cur").join(format!("{stem}:2,S"))).unwrap();
        let again = s.open(&MailboxName::inbox()).await.unwrap();
        assert_eq!(again.uids(), vec![1, 2]);
        assert_eq!(
            mb.message(1).unwrap().flags,
            SystemFlags::SEEN,
            "shared view updated"
        );
        let ch = mb.changes_since(m0);
        assert_eq!(
            ch.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(mb.read_message(2).await.unwrap(), b"\r\nhi");
        // Someone deletes the file: the next open reports it expunged.
        let m1 = mb.status().highest_modseq;
        for n in names_in(&root.join("cur")) {
            if n.contains("other") {
                fs::remove_file(root.join("cur").join(n)).unwrap();
            }
        }
        s.open(&MailboxName::inbox()).await.unwrap();
        assert_eq!(mb.uids(), vec![1]);
        assert_eq!(mb.changes_since(m1).expunged, vec![2]);
    });
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn heals_lost_index_and_lost_uidlist() {
    let home = test_dir("md-heal");
    let root = home.join("Maildir");
    let (uidv, flags) = run(async {
        let s = store_at("maildir:~/Maildir", &home).await;
        let mb = s.open(&MailboxName::inbox()).await.unwrap();
        let reqs = (0..3)
            .map(|i| AppendRequest {
                message: format!("Subject: {i}\r\n\r\nx\r\n").into_bytes(),
                ..Default::default()
            })
            .collect();
        mb.append(reqs).await.unwrap();
        mb.store(
            &[2],
            FlagOp::Add,
            SystemFlags::FLAGGED,
            &["Kw".into()],
            None,
        )
        .await
        .unwrap();
        mb.expunge(&[1]).await.unwrap();
        (mb.status().uidvalidity, mb.messages())
    });
    // tern's index: gone or damaged → same UIDs, flags, keywords, UIDVALIDITY.
    for f in ["tern.index", "tern.log", "tern.state"] {
        fs::remove_file(root.join(f)).unwrap();
    }
    run(async {
        let mb = store_at("maildir:~/Maildir", &home)
            .await
            .open(&MailboxName::inbox())
            .await
            .unwrap();
        assert_eq!(mb.status().uidvalidity, uidv);
        let now: Vec<_> = mb
            .messages()
            .into_iter()
            .map(|m| (m.uid, m.flags, m.keywords))
            .collect();
        let was: Vec<_> = flags
            .iter()
            .map(|m| (m.uid, m.flags, m.keywords.clone()))
            .collect();
        assert_eq!(now, was);
        assert_eq!(mb.status().uidnext, 4);
    });
    // A corrupt uidlist: like Dovecot, new UIDVALIDITY, every message kept.
    fs::write(root.join("dovecot-uidlist"), b"3 V0 Nxx\ngarbage").unwrap();
    run(async {
        let mb = store_at("maildir:~/Maildir", &home)
            .await
            .open(&MailboxName::inbox())
            .await
            .unwrap();
        assert_ne!(mb.status().uidvalidity, uidv);
        assert_eq!(mb.status().messages, 2);
        assert_eq!(
            mb.message(mb.uids()[0]).unwrap().keywords.len()
                + mb.message(mb.uids()[1]).unwrap().keywords.len(),
            1
        );
    });
    let _ = fs::remove_dir_all(&home);
}

#[test]
fn modified_utf7_names_on_disk() {
    let home = test_dir("md-utf7");
    run(async {
        let s = store_at("maildir:~/Maildir", &home).await;
        s.create(&MailboxName::new("Café/Sub").unwrap())
            .await
            .unwrap();
        assert!(home.join("Maildir/.Caf&AOk-.Sub/cur").is_dir());
        assert!(
            s.create(&MailboxName::new("a.b").unwrap()).await.is_err(),
            "'.' is Maildir++'s separator"
        );
        let fs_store = store_at("maildir:~/M2:LAYOUT=fs", &home).await;
        fs_store
            .create(&MailboxName::new("Café/Sub").unwrap())
            .await
            .unwrap();
        assert!(home.join("M2/Caf&AOk-/Sub/cur").is_dir());
        let names: Vec<String> = fs_store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.name.to_string())
            .collect();
        assert_eq!(names, vec!["Café", "Café/Sub", "INBOX"]);
    });
    let _ = fs::remove_dir_all(&home);
}

/// Dovecot delivers into a Maildir and changes flags; tern reads the same
/// UIDs and bodies. Then tern writes and Dovecot reads.
#[test]
fn interop_with_the_installed_dovecot() {
    let rig = DovecotRig::new("md-dovecot", "maildir:{home}/Maildir");
    rig.deliver(b"From: a@example.org\nSubject: one\n\nHello one.\n");
    rig.deliver(b"From: b@example.org\nSubject: two\n\nHello two.\n");
    let out = rig.imap(
        b"a SELECT INBOX\r\nb STORE 1 +FLAGS (\\Seen $Label1)\r\nc CREATE Archive\r\nd COPY 2 Archive\r\ne LOGOUT\r\n",
    );
    assert!(out.contains("d OK"), "{out}");
    let home = rig.home.clone();
    run(async {
        let s = store_at("maildir:~/Maildir", &home).await;
        let inbox = s.open(&MailboxName::inbox()).await.unwrap();
        assert_eq!(inbox.uids(), vec![1, 2]);
        let m1 = inbox.message(1).unwrap();
        assert_eq!(m1.flags, SystemFlags::SEEN);
        assert_eq!(m1.keywords, vec!["$Label1"]);
        let body = inbox.read_message(2).await.unwrap();
        assert!(
            body.ends_with(b"\r\n\r\nHello two.\r\n"),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(body.len() as u64, inbox.message(2).unwrap().virtual_size);
        let arch = s.open(&MailboxName::new("Archive").unwrap()).await.unwrap();
        assert_eq!(arch.uids(), vec![1]);
        // tern's turn: append with flags and a keyword, flag a Dovecot message.
        let uids = inbox
            .append(vec![AppendRequest {
                message: b"From: t@example.org\r\nSubject: tern\r\n\r\nWritten by tern.\r\n"
                    .to_vec(),
                flags: SystemFlags::FLAGGED,
                keywords: vec!["Work".into()],
                ..Default::default()
            }])
            .await
            .unwrap();
        assert_eq!(uids, vec![3]);
        inbox
            .store(&[2], FlagOp::Add, SystemFlags::ANSWERED, &[], None)
            .await
            .unwrap();
    });
    let out =
        rig.imap(b"a SELECT INBOX\r\nb UID FETCH 1:* (UID FLAGS BODY.PEEK[TEXT])\r\nc LOGOUT\r\n");
    assert!(out.contains("b OK"), "{out}");
    assert!(out.contains("UID 3 FLAGS (\\Flagged Work)"), "{out}");
    assert!(out.contains("Written by tern."), "{out}");
    assert!(out.contains("UID 2 FLAGS (\\Answered)"), "{out}");
    assert!(out.contains("UID 1 FLAGS (\\Seen $Label1)"), "{out}");
}

#[test]
fn damaged_index_files_heal_with_a_warning() {
    let home = test_dir("md-damage");
    let root = home.join("Maildir");
    let before = run(async {
        let mb = store_at("maildir:~/Maildir", &home)
            .await
            .open(&MailboxName::inbox())
            .await
            .unwrap();
        mb.append(vec![AppendRequest {
            message: b"S: 1\r\n\r\nx\r\n".to_vec(),
            ..Default::default()
        }])
        .await
        .unwrap();
        mb.store(&[1], FlagOp::Add, SystemFlags::SEEN, &["Kw".into()], None)
            .await
            .unwrap();
        (
            mb.status().uidvalidity,
            mb.guid(),
            mb.messages()[0].flags,
            mb.messages()[0].keywords.clone(),
        )
    });
    for (file, damage) in [("tern.index", 0usize), ("tern.log", 1), ("tern.state", 2)] {
        let p = root.join(file);
        let mut bytes = fs::read(&p).unwrap();
        match damage {
            0 => bytes
                .iter_mut()
                .skip(12)
                .step_by(7)
                .for_each(|b| *b ^= 0x5a),
            1 => bytes.truncate(bytes.len() / 2),
            _ => bytes.clear(),
        }
        fs::write(&p, bytes).unwrap();
        run(async {
            let mb = store_at("maildir:~/Maildir", &home)
                .await
                .open(&MailboxName::inbox())
                .await
                .unwrap();
            assert!(!mb.problems().is_empty(), "{file}: damage must be reported");
            let m = &mb.messages()[0];
            assert_eq!(
                (
                    mb.status().uidvalidity,
                    mb.guid(),
                    m.flags,
                    m.keywords.clone()
                ),
                before,
                "{file}"
            );
        });
    }
    let _ = fs::remove_dir_all(&home);
}
