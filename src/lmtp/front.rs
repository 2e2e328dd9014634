//! The LMTP front end: greeting, LHLO, NOOP, RSET, QUIT. Delivery (MAIL,
//! RCPT, DATA) arrives with the LMTP issue and is refused with a temporary
//! error until then, so an MTA keeps the mail queued instead of losing it.

use std::rc::Rc;

use crate::net::Conn;
use crate::shard::env::{Env, Input};

async fn send(conn: &mut Conn, text: &str) -> bool {
    conn.write_all(text.as_bytes()).await.is_ok()
}

pub async fn serve(mut conn: Conn, env: Rc<Env>) {
    let s = env.settings.lmtp.clone();
    conn.set_idle_timeout(s.idle_timeout_authed);
    if !send(&mut conn, &format!("220 {} {}\r\n", s.hostname, s.greeting)).await {
        return;
    }
    loop {
        let line = match env.next_line(&mut conn, s.max_line_length).await {
            Input::Line(l) => l,
            Input::TooLong => {
                if !send(&mut conn, "500 5.5.2 Line too long\r\n").await {
                    return;
                }
                continue;
            }
            Input::Shutdown => {
                send(&mut conn, "421 4.3.2 Server shutting down\r\n").await;
                conn.close().await;
                return;
            }
            _ => return,
        };
        let text = String::from_utf8_lossy(&line);
        let verb = text
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply = match verb.as_str() {
            "LHLO" => format!(
                "250-{}\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
                s.hostname
            ),
            "HELO" | "EHLO" => "500 5.5.1 This is LMTP: use LHLO\r\n".to_string(),
            "NOOP" => "250 2.0.0 OK\r\n".to_string(),
            "RSET" => "250 2.0.0 OK\r\n".to_string(),
            "QUIT" => {
                send(&mut conn, "221 2.0.0 Bye\r\n").await;
                conn.close().await;
                return;
            }
            "MAIL" | "RCPT" | "DATA" => "451 4.3.0 Delivery is not available yet\r\n".to_string(),
            _ => "500 5.5.1 Unknown command\r\n".to_string(),
        };
        if !send(&mut conn, &reply).await {
            return;
        }
    }
}
