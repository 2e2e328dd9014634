//! The writer thread's output: buffers a batch of lines into few
//! `write(2)`s and, after each batch, reports the lines the queue dropped.

use std::io::{self, BufWriter, Write};
use std::sync::{Arc, OnceLock};

use tracing_appender::non_blocking::ErrorCounter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};

/// Large enough that a burst becomes one write, small enough to not hold
/// lines back long (the queue flushes after every batch anyway).
const BUFFER_BYTES: usize = 64 * 1024;

pub(super) struct DropReporter<W: Write> {
    out: BufWriter<W>,
    /// Set once the queue exists (the counter is made with it, after this).
    dropped: Arc<OnceLock<ErrorCounter>>,
    reported: usize,
}

impl<W: Write> DropReporter<W> {
    pub(super) fn new(out: W, dropped: Arc<OnceLock<ErrorCounter>>) -> DropReporter<W> {
        DropReporter {
            out: BufWriter::with_capacity(BUFFER_BYTES, out),
            dropped,
            reported: 0,
        }
    }

    fn report_drops(&mut self) -> io::Result<()> {
        let total = self.dropped.get().map_or(0, ErrorCounter::dropped_lines);
        if total <= self.reported {
            return Ok(());
        }
        let line = dropped_line(total - self.reported);
        self.reported = total;
        self.out.write_all(line.as_bytes())
    }
}

/// Looks like the fmt layer's lines, so log readers parse it the same way.
pub(super) fn dropped_line(count: usize) -> String {
    let mut now = String::new();
    if SystemTime.format_time(&mut Writer::new(&mut now)).is_err() {
        now.clear();
    }
    format!("{now}  WARN log: {count} log lines dropped (the log writer fell behind)\n")
}

impl<W: Write> Write for DropReporter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    /// Called by the writer thread once the queue is empty.
    fn flush(&mut self) -> io::Result<()> {
        self.report_drops()?;
        self.out.flush()
    }
}
