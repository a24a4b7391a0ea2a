//! A real SMTP server for tests: Python's `aiosmtpd` (from PyPI, in target/smtp-venv,
//! which `scripts/test` makes), started on a free loopback port and writing what it
//! receives to a maildir, which the test reads back.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// One message as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub body: String,
    /// The one-click unsubscribe headers (RFC 8058), empty when absent.
    pub list_unsubscribe: String,
    pub list_unsubscribe_post: String,
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("KOHTAAMO_TEST_SMTP_PYTHON") {
        return p.into();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/smtp-venv/bin/python")
}

/// A free loopback port (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl SmtpServer {
    pub fn start() -> Self {
        let py = python();
        assert!(
            py.exists(),
            "the SMTP test server needs aiosmtpd at {}: run scripts/test once (it makes \
             target/smtp-venv) or set KOHTAAMO_TEST_SMTP_PYTHON",
            py.display()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let child = Command::new(&py)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "aiosmtpd did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port, dir }
    }

    /// Settings for sending to it (no encryption: loopback).
    pub fn settings(&self) -> kohtaamo_app::mail::SmtpSettings {
        settings_for(self.port)
    }

    pub fn mailer(&self) -> kohtaamo_app::mail::Mailer {
        kohtaamo_app::mail::Mailer::new(&self.settings()).expect("mailer")
    }
}

/// Settings for sending to a server on this machine at `port`.
pub fn settings_for(port: u16) -> kohtaamo_app::mail::SmtpSettings {
    {
        kohtaamo_app::mail::SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: kohtaamo_app::mail::Security::None,
            username: None,
            password: None,
            from: "Kohtaamo <kohtaamo@example.fi>".into(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl SmtpServer {
    /// Every message received so far, decoded.
    pub fn received(&self) -> Vec<Received> {
        let new = self.dir.path().join("maildir").join("new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return vec![];
        };
        let mut out = vec![];
        for e in entries.flatten() {
            let raw = std::fs::read(e.path()).expect("read message");
            let m = mailparse::parse_mail(&raw).expect("a message");
            let h = |name: &str| {
                m.headers
                    .iter()
                    .find(|x| x.get_key().eq_ignore_ascii_case(name))
                    .map(|x| x.get_value())
                    .unwrap_or_default()
            };
            out.push(Received {
                to: h("To"),
                from: h("From"),
                subject: h("Subject"),
                body: m.get_body().expect("body"),
                list_unsubscribe: h("List-Unsubscribe"),
                list_unsubscribe_post: h("List-Unsubscribe-Post"),
            });
        }
        out.sort_by(|a, b| (&a.to, &a.subject).cmp(&(&b.to, &b.subject)));
        out
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
