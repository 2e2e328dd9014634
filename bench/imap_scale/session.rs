//! One logged-in IMAPS client of the benchmark, and the timing and result
//! size of each command it runs.

use crate::harness::{Client, DEMO_PASS, DEMO_USER, Server};
use std::time::Instant;

pub struct Session {
    client: Client,
    next_tag: u32,
}

/// One command's outcome: how long until its tagged OK, and how big the
/// answer was (EXISTS for SELECT, FETCH lines, SEARCH hits).
pub struct Row {
    pub command: String,
    pub kind: &'static str,
    pub count: usize,
    pub millis: f64,
}

impl Row {
    pub fn unit(&self) -> &'static str {
        match self.kind {
            "select" => "EXISTS",
            "fetch" => "FETCH lines",
            _ => "UIDs found",
        }
    }
}

impl Session {
    pub fn open(srv: &Server) -> Session {
        let mut client = Client::tls(srv.imaps.port, srv.tls_config());
        assert!(client.line().starts_with("* OK"), "no greeting");
        let mut s = Session {
            client,
            next_tag: 0,
        };
        s.command(&format!("LOGIN {DEMO_USER} {DEMO_PASS}"), "login");
        s
    }

    /// Runs `command`; panics unless it ends in a tagged OK.
    pub fn command(&mut self, command: &str, kind: &'static str) -> Row {
        self.next_tag += 1;
        let tag = format!("t{}", self.next_tag);
        let t = Instant::now();
        self.client.send(&format!("{tag} {command}"));
        let lines = self.client.until(&format!("{tag} "));
        let millis = t.elapsed().as_secs_f64() * 1e3;
        let last = lines.last().map(String::as_str).unwrap_or("");
        assert!(
            last.starts_with(&format!("{tag} OK")),
            "{command}: {last:?}"
        );
        let count = match kind {
            "select" => lines
                .iter()
                .find_map(|l| l.strip_prefix("* ")?.strip_suffix(" EXISTS")?.parse().ok())
                .unwrap_or(0),
            "fetch" => lines.iter().filter(|l| l.contains(" FETCH (")).count(),
            "search" => lines
                .iter()
                .find_map(|l| l.strip_prefix("* SEARCH"))
                .map(|rest| rest.split_whitespace().count())
                .unwrap_or(0),
            _ => 0,
        };
        Row {
            command: command.to_string(),
            kind,
            count,
            millis,
        }
    }

    pub fn logout(mut self) {
        self.command("LOGOUT", "logout");
    }
}
