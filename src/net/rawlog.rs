//! Dovecot's rawlog: one session's conversation, byte for byte, in two
//! files under `rawlog_dir` (`<date>-<time>-<pid>-<session>.in` for what
//! the client sent, `.out` for what it got), for seeing exactly what a
//! mail client does. Like Dovecot, nothing is written unless the directory
//! already exists: an operator turns it on for one user by creating it.
//!
//! Drivers call [`Rawlog::input`] / [`Rawlog::output`] with plaintext
//! (after TLS, after COMPRESS's inflate, before its deflate); a task of the
//! session's own writes it through glommio's async file I/O, so the shard
//! never waits for the disk.

use std::path::{Path, PathBuf};

use futures_lite::AsyncWriteExt;
use glommio::channels::local_channel::{self, LocalSender};
use glommio::io::{OpenOptions, StreamWriter, StreamWriterBuilder};

enum Chunk {
    In(Vec<u8>),
    Out(Vec<u8>),
}

/// A session's rawlog; dropping it writes out the rest and closes the files.
pub struct Rawlog {
    tx: LocalSender<Chunk>,
    /// The `.in` file's path (`.out` beside it), for the log line.
    pub in_path: PathBuf,
}

impl Rawlog {
    /// Starts a rawlog in `dir` for `session`; `None` when `dir` does not
    /// exist (rawlog is off for this user) or the files cannot be created
    /// (logged).
    pub async fn start(dir: &Path, session: &str) -> Option<Rawlog> {
        let base = dir.join(format!(
            "{}-{}-{session}",
            utc_stamp(std::time::SystemTime::now()),
            std::process::id()
        ));
        let in_path = base.with_extension("in");
        let out_path = base.with_extension("out");
        let open = |p: PathBuf| async move {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .buffered_open(&p)
                .await
                .map(|f| {
                    StreamWriterBuilder::new(f)
                        .with_sync_on_close_disabled(true)
                        .with_buffer_size(16 * 1024)
                        .build()
                })
        };
        let (input, output) = match (open(in_path.clone()).await, open(out_path).await) {
            (Ok(i), Ok(o)) => (i, o),
            (Err(e), _) | (_, Err(e)) => {
                let e = std::io::Error::from(e);
                if e.kind() == std::io::ErrorKind::NotFound {
                    tracing::debug!(session, "rawlog: {} does not exist: off", dir.display());
                } else {
                    tracing::warn!(
                        session,
                        "rawlog: cannot create files in {}: {e}",
                        dir.display()
                    );
                }
                return None;
            }
        };
        let (tx, rx) = local_channel::new_unbounded();
        glommio::spawn_local(write_out(rx, input, output)).detach();
        Some(Rawlog { tx, in_path })
    }

    /// Bytes the client sent.
    pub fn input(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            let _ = self.tx.try_send(Chunk::In(bytes.to_vec()));
        }
    }

    /// Bytes sent to the client.
    pub fn output(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            let _ = self.tx.try_send(Chunk::Out(bytes.to_vec()));
        }
    }
}

/// Drains the session's chunks into the two files, flushing after each,
/// so the files are current while the session waits (rawlog is for
/// debugging one user: simple beats fast here).
async fn write_out(
    rx: local_channel::LocalReceiver<Chunk>,
    mut input: StreamWriter,
    mut output: StreamWriter,
) {
    let mut broken = false;
    while let Some(chunk) = rx.recv().await {
        if broken {
            continue;
        }
        let file = match &chunk {
            Chunk::In(_) => &mut input,
            Chunk::Out(_) => &mut output,
        };
        let (Chunk::In(bytes) | Chunk::Out(bytes)) = &chunk;
        let r = match file.write_all(bytes).await {
            Ok(()) => file.flush().await,
            e => e,
        };
        if let Err(e) = r {
            tracing::warn!("rawlog: write failed, stopping this session's rawlog: {e}");
            broken = true;
        }
    }
    let _ = input.close().await;
    let _ = output.close().await;
}

/// `YYYYMMDD-HHMMSS` in UTC.
fn utc_stamp(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = crate::storage::mbox::from_line::civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        let at = |s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
        assert_eq!(utc_stamp(at(0)), "19700101-000000");
        assert_eq!(utc_stamp(at(951_782_400)), "20000229-000000");
        assert_eq!(utc_stamp(at(1_796_688_245)), "20261208-000405");
    }

    #[test]
    fn both_directions_land_in_their_files_and_a_missing_dir_is_off() {
        let dir = std::env::temp_dir().join(format!("tern-rawlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ex = glommio::LocalExecutorBuilder::default().make().unwrap();
        let in_path = ex.run(async {
            assert!(Rawlog::start(&dir.join("absent"), "s1").await.is_none());
            let r = Rawlog::start(&dir, "s1").await.expect("rawlog");
            r.output(b"* OK ready\r\n");
            r.input(b"a NOOP\r\n");
            r.output(b"a OK done\r\n");
            let p = r.in_path.clone();
            drop(r);
            // Let the writer task drain and close.
            glommio::timer::sleep(std::time::Duration::from_millis(200)).await;
            p
        });
        let name = in_path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.ends_with(&format!("-{}-s1.in", std::process::id())),
            "{name}"
        );
        assert_eq!(std::fs::read(&in_path).unwrap(), b"a NOOP\r\n");
        assert_eq!(
            std::fs::read(in_path.with_extension("out")).unwrap(),
            b"* OK ready\r\na OK done\r\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
