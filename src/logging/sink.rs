//! The writer the fmt layer formats each line into: the queue, in the
//! process that started it, and a direct `write(2)` everywhere else.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;

use super::LogError;
use super::drop_report::DropReporter;

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
    direct: File,
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

impl LogSink {
    /// Writes every line directly to `direct` until [`start_queue`](Self::start_queue).
    pub fn new(direct: File) -> LogSink {
        LogSink {
            shared: Arc::new(Shared {
                direct,
                queue: OnceLock::new(),
                stopped: AtomicBool::new(false),
            }),
        }
    }

    /// Starts the writer thread; from now on this process's lines go
    /// through the queue. Call it after the last `fork()` that needs a
    /// single-threaded process (the auth helper). Only the first call
    /// does anything.
    pub fn start_queue(&self) -> Result<(), LogError> {
        let out = self
            .shared
            .direct
            .try_clone()
            .map_err(LogError::Duplicate)?;
        self.start_queue_to(out, QUEUE_LINES, std::process::id());
        Ok(())
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
        LineWriter::Direct(&self.shared.direct)
    }
}

/// One formatted line's way out.
pub enum LineWriter<'a> {
    Queued(NonBlocking),
    /// Through `&File`: no lock, one `write(2)` per line.
    Direct(&'a File),
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            LineWriter::Queued(q) => q.write(buf),
            LineWriter::Direct(f) => (&**f).write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            LineWriter::Queued(q) => q.write_all(buf),
            LineWriter::Direct(f) => (&**f).write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            LineWriter::Queued(q) => q.flush(),
            LineWriter::Direct(f) => (&**f).flush(),
        }
    }
}

#[cfg(test)]
mod tests;
