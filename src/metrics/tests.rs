use std::time::Duration;

use super::http::{self, Request};
use super::*;

#[test]
fn command_names_come_from_a_fixed_list() {
    let name = |frame: &[u8]| IMAP_COMMANDS[imap_command_index(frame)];
    assert_eq!(name(b"a1 FETCH 1:* (FLAGS)\r\n"), "FETCH");
    assert_eq!(name(b"a1 uid fetch 1:* FLAGS"), "UID FETCH");
    assert_eq!(name(b"x UID EXPUNGE 3"), "UID EXPUNGE");
    assert_eq!(name(b"x NOOP"), "NOOP");
    assert_eq!(name(b"x XWHATEVER"), "OTHER");
    assert_eq!(name(b"x UID XWHATEVER"), "OTHER");
    assert_eq!(name(b""), "OTHER");
}

#[test]
fn histogram_buckets_are_cumulative_and_inclusive() {
    let h = Histogram::default();
    h.record(Duration::from_micros(100)); // le 0.0001 (bounds are inclusive)
    h.record(Duration::from_micros(101)); // le 0.00025
    h.record(Duration::from_secs(60)); // +Inf only
    let mut s = Default::default();
    h.add_to(&mut s);
    h.add_to(&mut s); // a second shard with the same counts
    let s: histogram::Snapshot = s;
    assert_eq!(s.cumulative.len(), BOUNDS_SECONDS.len() + 1);
    assert_eq!(s.cumulative[0], 2);
    assert_eq!(s.cumulative[1], 4);
    assert_eq!(s.cumulative[BOUNDS_SECONDS.len() - 1], 4);
    assert_eq!(s.count(), 6);
    assert!(
        (s.sum_seconds - 2.0 * 60.000201).abs() < 1e-9,
        "{}",
        s.sum_seconds
    );
}

#[test]
fn shards_are_summed_and_only_installed_threads_count() {
    let r = Registry::new(2);
    // Not installed on this thread: nothing is counted.
    connection_accepted(Service::Imap, false);
    assert!(
        r.render(&ProcessStats::default())
            .contains("tern_connections_total{protocol=\"imap\",tls=\"no\"} 0\n")
    );
    r.shards()[0].connection(Service::Imap, false);
    r.shards()[1].connection(Service::Imap, false);
    r.shards()[1].connection(Service::Pop3, true);
    r.shards()[1].imap_command(
        imap_command_index(b"a FETCH 1 FLAGS"),
        Duration::from_millis(3),
    );
    r.shards()[0].sessions_add(2);
    let text = r.render(&ProcessStats {
        resident_bytes: Some(4096),
        open_fds: Some(7),
        max_fds: Some(1024),
    });
    for want in [
        "tern_connections_total{protocol=\"imap\",tls=\"no\"} 2\n",
        "tern_connections_total{protocol=\"pop3\",tls=\"yes\"} 1\n",
        "tern_imap_command_duration_seconds_bucket{command=\"FETCH\",le=\"0.0025\"} 0\n",
        "tern_imap_command_duration_seconds_bucket{command=\"FETCH\",le=\"0.005\"} 1\n",
        "tern_imap_command_duration_seconds_bucket{command=\"FETCH\",le=\"+Inf\"} 1\n",
        "tern_imap_command_duration_seconds_count{command=\"FETCH\"} 1\n",
        "tern_shard_sessions{shard=\"0\"} 2\n",
        "tern_shard_sessions{shard=\"1\"} 0\n",
        "process_resident_memory_bytes 4096\n",
        "process_open_fds 7\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(
        !text.contains("command=\"SELECT\""),
        "unused commands are left out"
    );
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn http_requests() {
    assert_eq!(http::parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"), None);
    assert_eq!(
        http::parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
        Some(Request::Metrics {
            openmetrics: false,
            head_only: false
        })
    );
    assert_eq!(
        http::parse(
            b"GET /metrics?x=1 HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n\r\n"
        ),
        Some(Request::Metrics {
            openmetrics: true,
            head_only: false
        })
    );
    assert_eq!(
        http::parse(b"GET / HTTP/1.1\r\n\r\n"),
        Some(Request::NotFound)
    );
    assert_eq!(
        http::parse(b"POST /metrics HTTP/1.1\r\n\r\n"),
        Some(Request::MethodNotAllowed)
    );
    assert_eq!(http::parse(b"a1 LOGIN x y\r\n\r\n"), Some(Request::Bad));
    assert_eq!(http::parse(&[b'x'; http::MAX_HEAD + 1]), Some(Request::Bad));

    let ok = http::respond(
        &Request::Metrics {
            openmetrics: true,
            head_only: false,
        },
        || "# EOF\n".into(),
    );
    let ok = String::from_utf8(ok).unwrap();
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(
        ok.contains("Content-Type: application/openmetrics-text"),
        "{ok}"
    );
    assert!(ok.contains("Content-Length: 6\r\n"), "{ok}");
    assert!(ok.ends_with("\r\n\r\n# EOF\n"), "{ok}");
    let head = http::respond(
        &Request::Metrics {
            openmetrics: false,
            head_only: true,
        },
        || "# EOF\n".into(),
    );
    assert!(
        String::from_utf8(head)
            .unwrap()
            .ends_with("Content-Length: 6\r\nConnection: close\r\n\r\n")
    );
    let nf = String::from_utf8(http::respond(&Request::NotFound, || unreachable!())).unwrap();
    assert!(nf.starts_with("HTTP/1.1 404 "), "{nf}");
}
