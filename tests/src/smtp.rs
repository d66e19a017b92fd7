//! An SMTP server on loopback that keeps the mail Keel sends.

use std::io::Write;
use std::time::Duration;

/// A minimal SMTP server (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) on loopback
/// that keeps every message it receives, for tests that read the mail Keel sends.
pub struct SmtpSink {
    address: std::net::SocketAddr,
    mails: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stopped: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        Self::start_on("127.0.0.1:0")
    }

    /// Listens on `address` (e.g. a port reserved earlier with [`free_port`]).
    pub fn start_on(address: &str) -> SmtpSink {
        let listener = std::net::TcpListener::bind(address).expect("bind SMTP sink");
        let address = listener.local_addr().expect("address");
        let mails = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (store, stop) = (mails.clone(), stopped.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let store = store.clone();
                    std::thread::spawn(move || {
                        let _ = smtp_session(stream, &store);
                    });
                }
            }
        });
        SmtpSink { address, mails, stopped }
    }

    /// `smtp://127.0.0.1:<port>` for Keel's `smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// The messages received, headers as sent and bodies decoded (as a mail client shows them).
    pub fn messages(&self) -> Vec<String> {
        self.mails.lock().unwrap().iter().map(|m| decode_message(m)).collect()
    }

    /// Waits up to `timeout` for a message whose raw text (as sent) contains every one of `needles`.
    pub async fn raw_wait_for(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let found = self.mails.lock().unwrap().iter().find(|m| needles.iter().all(|n| m.contains(n))).cloned();
            if let Some(mail) = found {
                return Some(mail);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to `timeout` for a message containing `needle`.
    pub async fn wait_for(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(mail) = self.messages().into_iter().find(|m| m.contains(needle)) {
                return Some(mail);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.address);
    }
}

fn smtp_session(stream: std::net::TcpStream, store: &std::sync::Mutex<Vec<String>>) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader};
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut reply = |text: &str| writer.write_all(text.as_bytes());
    reply("220 keel-test-smtp ESMTP ready\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            reply("250-keel-test-smtp\r\n250 8BITMIME\r\n")?;
        } else if command.starts_with("HELO") {
            reply("250 keel-test-smtp\r\n")?;
        } else if command.starts_with("MAIL FROM")
            || command.starts_with("RCPT TO")
            || command == "RSET"
            || command == "NOOP"
        {
            reply("250 OK\r\n")?;
        } else if command == "DATA" {
            reply("354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // Dot-unstuffing (RFC 5321 §4.5.2).
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            store.lock().unwrap().push(data);
            reply("250 OK: queued\r\n")?;
        } else if command == "QUIT" {
            reply("221 Bye\r\n")?;
            return Ok(());
        } else {
            reply("502 Command not implemented\r\n")?;
        }
    }
}

/// The message as a mail client shows it: the headers as sent, then every text part (plain,
/// HTML, calendar) decoded from its transfer encoding, in order.
fn decode_message(raw: &str) -> String {
    let Ok(mail) = mailparse::parse_mail(raw.as_bytes()) else { return raw.to_owned() };
    let headers = raw.split_once("\r\n\r\n").map_or(raw, |(headers, _)| headers);
    let mut bodies = String::new();
    collect_texts(&mail, &mut bodies);
    format!("{headers}\r\n\r\n{bodies}")
}

fn collect_texts(part: &mailparse::ParsedMail, out: &mut String) {
    if part.subparts.is_empty() {
        if part.ctype.mimetype.starts_with("text/")
            && let Ok(text) = part.get_body()
        {
            out.push_str(&text);
            out.push_str("\r\n");
        }
        return;
    }
    for sub in &part.subparts {
        collect_texts(sub, out);
    }
}
