//! The writer the fmt layer formats each line into: the queue, in the
//! process that started it, and a direct `write(2)` everywhere else.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;

use super::LogError;
use super::drop_report::DropReporter;
use super::syslog::SyslogOut;

/// Queue length in lines (a few MiB at most). Enough for the writer to
/// ride out a short disk stall under heavy logging; past it lines are
/// dropped, never waited for.
pub const QUEUE_LINES: usize = 16_384;

/// Cheap to clone; every clone writes to the same place.
#[derive(Clone)]
pub struct LogSink {
    shared: Arc<Shared>,
}

struct Shared {
    dest: Destination,
    queue: OnceLock<Queue>,
    /// Set at shutdown: from then on lines are written directly, since the
    /// writer thread is gone.
    stopped: AtomicBool,
}

struct Queue {
    /// The process whose writer thread drains the queue. A forked child
    /// has a copy of the queue but not the thread.
    owner_pid: u32,
    writer: NonBlocking,
    dropped: ErrorCounter,
    guard: Mutex<Option<WorkerGuard>>,
}

/// Where a sink's lines end up.
pub enum Destination {
    /// An already open file (standard error).
    Fd(File),
    /// A log file by name: reopened on request (SIGUSR1, after logrotate
    /// renamed it), and followed by processes without the queue.
    Path {
        path: PathBuf,
        current: RwLock<Arc<File>>,
    },
    Syslog(SyslogOut),
}

impl Destination {
    fn file(&self) -> Option<Arc<File>> {
        match self {
            Destination::Path { current, .. } => {
                Some(current.read().unwrap_or_else(|e| e.into_inner()).clone())
            }
            _ => None,
        }
    }

    fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        match self {
            Destination::Fd(f) => (&*f).write_all(buf),
            Destination::Path { .. } => match self.file() {
                Some(f) => (&*f).write_all(buf),
                None => Ok(()),
            },
            Destination::Syslog(s) => s.send_lines(buf),
        }
    }

    fn reopen(&self) -> Result<(), LogError> {
        if let Destination::Path { path, current } = self {
            let fresh = Arc::new(super::open_file(path)?);
            *current.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        }
        Ok(())
    }

    /// A process without the queue (the forked auth helper) never gets
    /// the signal: before each line it checks whether the file it writes
    /// to is still the one at the path, and reopens if logrotate moved it.
    fn follow_rename(&self) {
        let (Destination::Path { path, .. }, Some(f)) = (self, self.file()) else {
            return;
        };
        let at_path = std::fs::metadata(path).ok(); // blocking-ok: the helper process, not a shard
        let ours = f.metadata().ok();
        let moved = match (at_path, ours) {
            (Some(p), Some(o)) => p.ino() != o.ino() || p.dev() != o.dev(),
            (None, _) => true,
            _ => false,
        };
        if moved {
            let _ = self.reopen();
        }
    }
}

/// The queue's end: writes into whatever the destination is now.
struct QueueOut(Arc<Shared>);

impl Write for QueueOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.dest.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogSink {
    /// Writes every line directly to `direct` until [`start_queue`](Self::start_queue).
    pub fn new(direct: File) -> LogSink {
        LogSink::with(Destination::Fd(direct))
    }

    /// Appends to the file at `path`, which [`reopen`](Self::reopen) opens again.
    pub fn to_path(path: &Path) -> Result<LogSink, LogError> {
        let f = super::open_file(path)?;
        Ok(LogSink::with(Destination::Path {
            path: path.to_path_buf(),
            current: RwLock::new(Arc::new(f)),
        }))
    }

    /// Sends lines to the local syslog daemon (`log_path = syslog`).
    pub fn to_syslog(socket: &Path, facility: u8) -> Result<LogSink, LogError> {
        Ok(LogSink::with(Destination::Syslog(SyslogOut::connect(
            socket, facility,
        )?)))
    }

    fn with(dest: Destination) -> LogSink {
        LogSink {
            shared: Arc::new(Shared {
                dest,
                queue: OnceLock::new(),
                stopped: AtomicBool::new(false),
            }),
        }
    }

    /// True when both write to the same place (one queue serves both).
    pub fn same_as(&self, other: &LogSink) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Starts the writer thread; from now on this process's lines go
    /// through the queue. Call it after the last `fork()` that needs a
    /// single-threaded process (the auth helper). Only the first call
    /// does anything.
    pub fn start_queue(&self) -> Result<(), LogError> {
        self.start_queue_to(
            QueueOut(self.shared.clone()),
            QUEUE_LINES,
            std::process::id(),
        );
        Ok(())
    }

    /// Opens the log file again by its name (after logrotate moved it).
    /// Lines queued before go to whichever file is open when the writer
    /// thread reaches them: none is lost.
    pub fn reopen(&self) -> Result<(), LogError> {
        self.shared.dest.reopen()
    }

    fn start_queue_to<W: Write + Send + 'static>(&self, out: W, lines: usize, owner_pid: u32) {
        if self.shared.queue.get().is_some() {
            return;
        }
        let counter = Arc::new(OnceLock::new());
        // Lossy: a full queue drops the line and counts it. The blocking
        // mode would make a shard wait for the disk, which is what the
        // queue is for avoiding.
        let (writer, guard) = NonBlockingBuilder::default()
            .lossy(true)
            .buffered_lines_limit(lines)
            .thread_name("tern-log")
            .finish(DropReporter::new(out, counter.clone()));
        let dropped = writer.error_counter();
        let _ = counter.set(dropped.clone());
        let _ = self.shared.queue.set(Queue {
            owner_pid,
            writer,
            dropped,
            guard: Mutex::new(Some(guard)),
        });
    }

    /// Writes out what is queued (waiting about a second at most) and
    /// stops the writer thread; later lines are written directly.
    pub fn stop_queue(&self) {
        self.shared.stopped.store(true, Ordering::Release);
        let Some(queue) = self.shared.queue.get() else {
            return;
        };
        let guard = match queue.guard.lock() {
            Ok(mut g) => g.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        // Dropping the guard sends the shutdown after the queued lines and
        // waits for the writer thread to reach it.
        drop(guard);
    }

    /// Lines dropped because the queue was full, since the start.
    pub fn dropped_lines(&self) -> usize {
        self.shared
            .queue
            .get()
            .map_or(0, |q| q.dropped.dropped_lines())
    }
}

impl<'a> MakeWriter<'a> for LogSink {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> LineWriter<'a> {
        if let Some(queue) = self.shared.queue.get()
            && !self.shared.stopped.load(Ordering::Acquire)
            && queue.owner_pid == std::process::id()
        {
            return LineWriter::Queued(queue.writer.clone());
        }
        self.shared.dest.follow_rename();
        LineWriter::Direct(&self.shared.dest)
    }
}

/// One formatted line's way out.
pub enum LineWriter<'a> {
    Queued(NonBlocking),
    /// One `write(2)` per line (a read lock on a log file's handle).
    Direct(&'a Destination),
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            LineWriter::Queued(q) => q.write(buf),
            LineWriter::Direct(d) => d.write_all(buf).map(|()| buf.len()),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            LineWriter::Queued(q) => q.write_all(buf),
            LineWriter::Direct(d) => d.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            LineWriter::Queued(q) => q.flush(),
            LineWriter::Direct(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
