use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

use super::LogSink;

/// A file under the temp dir, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> TempFile {
        let p = std::env::temp_dir().join(format!(
            "tern-logsink-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        TempFile(p)
    }

    fn open(&self) -> std::fs::File {
        super::super::open_file(&self.0).expect("open temp log")
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Says "the write started" and waits to be let through.
#[derive(Clone)]
struct Gate {
    entered: mpsc::Sender<()>,
    open: Arc<Mutex<mpsc::Receiver<()>>>,
}

/// What the writer thread wrote. With a gate, the first write says it
/// started and waits until the gate is opened (a disk that stalls).
#[derive(Clone, Default)]
struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
    gate: Option<Gate>,
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let t = self.text();
            if t.contains(needle) || Instant::now() > deadline {
                return t;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(gate) = self.gate.take() {
            let _ = gate.entered.send(());
            let _ = gate.open.lock().unwrap().recv();
        }
        self.bytes.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_line(sink: &LogSink, text: &str) {
    sink.make_writer()
        .write_all(format!("{text}\n").as_bytes())
        .unwrap();
}

#[test]
fn queued_lines_arrive_in_order_and_stop_writes_them_all() {
    let direct = TempFile::new("order");
    let sink = LogSink::new(direct.open());
    let out = Captured::default();
    sink.start_queue_to(out.clone(), 1024, std::process::id());
    let expected: Vec<String> = (0..500).map(|i| format!("line {i}")).collect();
    for l in &expected {
        log_line(&sink, l);
    }
    sink.stop_queue();
    let got = out.text();
    assert_eq!(got.lines().collect::<Vec<_>>(), expected);
    assert_eq!(sink.dropped_lines(), 0);
    assert!(direct.text().is_empty(), "{}", direct.text());
    // After the stop, lines go straight to the file.
    log_line(&sink, "after stop");
    assert_eq!(direct.text(), "after stop\n");
}

#[test]
fn a_full_queue_drops_lines_without_waiting_and_reports_the_count() {
    let direct = TempFile::new("full");
    let sink = LogSink::new(direct.open());
    let (entered_tx, entered) = mpsc::channel();
    let (open_gate, gate) = mpsc::channel();
    let out = Captured {
        bytes: Arc::default(),
        gate: Some(Gate {
            entered: entered_tx,
            open: Arc::new(Mutex::new(gate)),
        }),
    };
    sink.start_queue_to(out.clone(), 4, std::process::id());
    log_line(&sink, "first");
    // The writer thread is now stuck writing "first" out.
    entered.recv().unwrap();
    // Four of these fit in the queue; the rest must be dropped, not waited
    // for. (The bound only turns a hang into a failure.)
    let (done_tx, done) = mpsc::channel();
    let producer = sink.clone();
    std::thread::spawn(move || {
        for i in 0..100 {
            log_line(&producer, &format!("line {i}"));
        }
        let _ = done_tx.send(());
    });
    let finished = done.recv_timeout(Duration::from_secs(60));
    if finished.is_err() {
        let _ = open_gate.send(());
        panic!("logging waited for the stalled writer");
    }
    assert_eq!(sink.dropped_lines(), 96);
    open_gate.send(()).unwrap();
    out.wait_for("log lines dropped");
    sink.stop_queue();
    let text = out.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(
        lines[..5],
        ["first", "line 0", "line 1", "line 2", "line 3"]
    );
    assert!(
        lines[5].ends_with("  WARN log: 96 log lines dropped (the log writer fell behind)"),
        "{text}"
    );
    assert!(direct.text().is_empty());
}

#[test]
fn a_forked_child_writes_directly_instead_of_into_the_queue() {
    let direct = TempFile::new("child");
    let sink = LogSink::new(direct.open());
    let out = Captured::default();
    // As a child sees the queue its parent started: another process owns it.
    sink.start_queue_to(out.clone(), 16, std::process::id().wrapping_add(1));
    log_line(&sink, "from the child");
    assert_eq!(direct.text(), "from the child\n");
    sink.stop_queue();
    assert_eq!(out.text(), "");
}
