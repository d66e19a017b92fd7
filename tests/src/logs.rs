//! What the server logs, as a test reads it: a process-wide tracing subscriber (installed by the
//! first test that asks) writing Keel's JSON log lines into memory. Tests in one binary share it,
//! so a test finds its own lines by something only it sent (a request id, a token).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;

/// At most this much is kept; older lines are dropped first.
const KEEP_BYTES: usize = 32 * 1024 * 1024;

#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// The log lines that contain `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        let buffer = self.0.lock().expect("log buffer");
        String::from_utf8_lossy(&buffer).lines().filter(|l| l.contains(needle)).map(str::to_owned).collect()
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

pub struct LineWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock().expect("log buffer");
        if buffer.len() + bytes.len() > KEEP_BYTES {
            let cut = buffer.len() / 2;
            buffer.drain(..cut);
        }
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter(self.0.clone())
    }
}

/// The captured logs of this test binary, as `keel serve --log-format json` writes them (info
/// and above, with the request's span: its id, method and path).
pub fn captured() -> CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(logs.clone())
            .try_init()
            .expect("no other test installs a global subscriber");
        logs
    })
    .clone()
}
