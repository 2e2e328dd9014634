//! The metrics endpoint's HTTP/1.1, as little as Prometheus needs: one
//! `GET /metrics` per connection, answered and closed. Pure: bytes in,
//! bytes out; the listener in `server::metrics_listener` does the I/O.

/// Longest request head accepted; a scraper's is a few hundred bytes.
pub const MAX_HEAD: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `GET /metrics`; `openmetrics` when the client accepts
    /// `application/openmetrics-text` (Prometheus asks for it).
    Metrics {
        openmetrics: bool,
        head_only: bool,
    },
    NotFound,
    MethodNotAllowed,
    /// Not HTTP, or a head over [`MAX_HEAD`].
    Bad,
}

/// Parses a request head from what has arrived; `None` until the blank
/// line that ends it.
pub fn parse(buf: &[u8]) -> Option<Request> {
    let Some(end) = memchr::memmem::find(buf, b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| memchr::memmem::find(buf, b"\n\n").map(|p| p + 2))
    else {
        return (buf.len() > MAX_HEAD).then_some(Request::Bad);
    };
    let Ok(head) = std::str::from_utf8(&buf[..end]) else {
        return Some(Request::Bad);
    };
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version)) = (first.next(), first.next(), first.next())
    else {
        return Some(Request::Bad);
    };
    if !version.starts_with("HTTP/1.") {
        return Some(Request::Bad);
    }
    let path = target.split('?').next().unwrap_or_default();
    if path != "/metrics" {
        return Some(Request::NotFound);
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Some(Request::MethodNotAllowed),
    };
    let openmetrics = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("accept") && v.contains("application/openmetrics-text")
        })
    });
    Some(Request::Metrics {
        openmetrics,
        head_only,
    })
}

pub const OPENMETRICS_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The whole response to `req`; `body` is only called for a scrape.
pub fn respond(req: &Request, body: impl FnOnce() -> String) -> Vec<u8> {
    let (status, ctype, text, head_only) = match req {
        Request::Metrics {
            openmetrics,
            head_only,
        } => (
            "200 OK",
            if *openmetrics {
                OPENMETRICS_TYPE
            } else {
                TEXT_TYPE
            },
            body(),
            *head_only,
        ),
        Request::NotFound => (
            "404 Not Found",
            "text/plain",
            "Only /metrics is here.\n".into(),
            false,
        ),
        Request::MethodNotAllowed => (
            "405 Method Not Allowed",
            "text/plain",
            "GET only.\n".into(),
            false,
        ),
        Request::Bad => (
            "400 Bad Request",
            "text/plain",
            "Bad request.\n".into(),
            false,
        ),
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        text.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(text.as_bytes());
    }
    out
}
