//! Every spelling of one user, through every protocol, lands on one shard:
//! 1,000 generated users behind a passwd-file-like table with Dovecot's
//! name rules (`auth_master_user_separator = *`, `recipient_delimiter = +`,
//! `username_format = %n`, case folding where the entry says so).

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use super::env::{
    AuthOutcome, AuthRequest, Authenticator, Env, LocalFuture, Protocol, ProtocolSettingsSet,
    UserInfo, UserLookup,
};
use super::owner::owner_shard;

const USERS: usize = 1_000;
const SHARDS: usize = 4;
const DOMAINS: [&str; 3] = ["example.org", "Mail.Example.COM", "localhost"];

/// splitmix64: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One passwd-file line: home and an optional `userdb_mail`.
struct Entry {
    home: String,
    mail: Option<String>,
    /// `%Ln`-style entry: the login is lower-cased before the lookup.
    fold_case: bool,
}

struct Table(HashMap<String, Entry>);

impl Table {
    /// Dovecot's order: split off the master user, drop the `+detail`,
    /// apply `%n` (drop the domain), fold case if the entry wants it. The
    /// record keeps the user name as given (minus master and detail), as
    /// passwd-file does with `username_format=%n`, so `user` differs
    /// between spellings while home and mail do not — the trap.
    fn lookup(&self, login: &str, spelling: usize) -> Option<UserInfo> {
        let login = login.split_once('*').map_or(login, |(user, _)| user);
        let (local, domain) = match login.split_once('@') {
            Some((l, d)) => (l, Some(d)),
            None => (login, None),
        };
        let local = local.split_once('+').map_or(local, |(l, _)| l);
        let entry = self
            .0
            .get(local)
            .or_else(|| self.0.get(&local.to_lowercase()).filter(|e| e.fold_case))?;
        let user = match domain {
            Some(d) => format!("{local}@{d}"),
            None => local.to_string(),
        };
        // The same home, spelled the ways userdbs and templates spell it.
        let home = match spelling % 3 {
            0 => entry.home.clone(),
            1 => format!("{}/", entry.home),
            _ => format!("{}//", entry.home),
        };
        Some(UserInfo {
            user,
            home,
            mail: entry.mail.clone(),
            uid: None,
            gid: None,
        })
    }
}

fn name(rng: &mut Rng, i: usize) -> String {
    let len = 3 + rng.below(6);
    let mut s: String = (0..len)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect();
    s.push_str(&i.to_string());
    s
}

/// Random case for a case-folding entry.
fn mixed_case(rng: &mut Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if rng.below(2) == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// Every way a client or an MTA may name `user`.
fn spellings(rng: &mut Rng, user: &str, fold_case: bool) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..4 {
        let base = if fold_case {
            mixed_case(rng, user)
        } else {
            user.to_string()
        };
        let domain = DOMAINS[rng.below(DOMAINS.len())];
        out.push(base.clone());
        out.push(format!("{base}@{domain}"));
        out.push(format!("{base}+detail{}@{domain}", rng.below(100)));
        out.push(format!("{base}*master"));
        out.push(format!("{base}@{domain}*admin"));
    }
    if fold_case {
        out.push(user.to_uppercase());
    }
    out
}

struct NoAuth;

impl Authenticator for NoAuth {
    fn authenticate<'a>(&'a self, _: AuthRequest) -> LocalFuture<'a, AuthOutcome> {
        Box::pin(async {
            AuthOutcome::Failed {
                reason: "unused".into(),
            }
        })
    }
    fn lookup_user<'a>(&'a self, _: &'a str) -> LocalFuture<'a, UserLookup> {
        Box::pin(async { UserLookup::NotFound })
    }
}

/// A 4-shard `Env` whose protocols spell the same default location three
/// ways (`~`, `%h`, a trailing `/`).
fn env() -> Rc<Env> {
    let base = crate::lmtp::driver_testenv::settings();
    let mut set = ProtocolSettingsSet {
        imap: base.clone(),
        pop3: base.clone(),
        lmtp: base,
    };
    set.imap.mail_location = "sdbox:%h/mail".into();
    set.pop3.mail_location = "sdbox:~/mail/".into();
    set.lmtp.mail_location = "sdbox:~/mail".into();
    Env::new(
        0,
        SHARDS,
        Arc::new(set),
        None,
        Rc::new(NoAuth),
        Rc::new(crate::storage::ShardStorage::new(1 << 20)),
        Box::new(|_, _| Box::pin(async { false })),
    )
}

#[test]
fn every_spelling_of_a_user_has_one_owner_and_users_spread() {
    let mut rng = Rng(0x7465_726e_0011);
    let mut table = Table(HashMap::new());
    let mut users = Vec::new();
    for i in 0..USERS {
        let user = name(&mut rng, i);
        let home = format!("/srv/vmail/{}/{user}", DOMAINS[i % DOMAINS.len()]);
        let mail = match rng.below(3) {
            0 => None,
            1 => Some("maildir:~/Maildir/".to_string()),
            _ => Some(format!("mbox:{home}/mail:INBOX=/var/mail/{user}")),
        };
        let fold_case = rng.below(2) == 0;
        table.0.insert(
            user.clone(),
            Entry {
                home,
                mail,
                fold_case,
            },
        );
        users.push((user, fold_case));
    }
    let env = env();
    let mut per_shard = [0usize; SHARDS];
    let mut split_by_name = 0;
    for (user, fold_case) in &users {
        let mut owners = BTreeSet::new();
        let mut by_name = BTreeSet::new();
        for (n, spelling) in spellings(&mut rng, user, *fold_case).iter().enumerate() {
            let info = table
                .lookup(spelling, n)
                .unwrap_or_else(|| panic!("{spelling} not in the table"));
            for p in [Protocol::Imap, Protocol::Pop3, Protocol::Lmtp] {
                owners.insert(env.owner_of_store(&info, p));
            }
            by_name.insert(owner_shard(&info.user, SHARDS));
        }
        assert_eq!(owners.len(), 1, "{user}: owners {owners:?}");
        if by_name.len() > 1 {
            split_by_name += 1;
        }
        per_shard[owners.into_iter().next().unwrap_or(SHARDS)] += 1;
    }
    // The test can fail: hashing the names the userdb hands back (the old
    // routing) splits most of these users over several shards.
    assert!(split_by_name > USERS / 2, "only {split_by_name} split");
    for (shard, count) in per_shard.iter().enumerate() {
        assert!(
            (150..350).contains(count),
            "shard {shard} owns {count}: {per_shard:?}"
        );
    }
}

#[test]
fn a_foreign_store_is_reported_once() {
    let env = env();
    let info = |n: usize| UserInfo {
        user: format!("u{n}"),
        home: format!("/srv/u{n}"),
        ..UserInfo::default()
    };
    let foreign = (0..100)
        .map(info)
        .find(|i| env.owner_of_store(i, Protocol::Imap) != env.shard)
        .expect("a user owned elsewhere");
    let own = (0..100)
        .map(info)
        .find(|i| env.owner_of_store(i, Protocol::Imap) == env.shard)
        .expect("a user owned here");
    let ctx = |i: &UserInfo| env.user_context(Protocol::Imap, i).expect("context");
    assert!(!env.report_foreign_store(&ctx(&own)));
    assert!(env.report_foreign_store(&ctx(&foreign)));
    assert!(!env.report_foreign_store(&ctx(&foreign)), "once per store");
    // Another spelling of the same store is the same store.
    let mut other = foreign.clone();
    other.user = format!("{}@example.org", other.user);
    other.home.push('/');
    assert!(!env.report_foreign_store(&ctx(&other)));
}
