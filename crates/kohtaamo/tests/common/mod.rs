//! What the process-level tests share: the real binary started on a database, and a
//! workspace with one active survey.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use kohtaamo_domain::model::{PackageInput, Parse, WorkspaceInput};
use kohtaamo_domain::survey::SurveyInput;
use kohtaamo_storage::Store;

pub const BIN: &str = env!("CARGO_BIN_EXE_kohtaamo");

/// A running server: its process, address and everything it logged so far.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Log lines containing `needle`.
    pub fn logged(&self, needle: &str) -> usize {
        self.log
            .lock()
            .map(|l| l.iter().filter(|x| x.contains(needle)).count())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `kohtaamo serve` on `url` with `dir` as its data directory; `env` adds or
/// overrides settings.
pub fn start(url: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
        .env("KOHTAAMO_DATA_DIR", dir)
        .env("KOHTAAMO_ADMIN_PASSWORD", "crash-test-password")
        .env("KOHTAAMO_LOG", "warn")
        .env("KOHTAAMO_FEEDBACK_PER_MINUTE_IP", "0")
        .env("KOHTAAMO_REVIEW_CYCLE_MINUTES", "0")
        .env("KOHTAAMO_ALERT_CYCLE_MINUTES", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start server");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(mut l) = sink.lock() {
                l.push(line);
            }
        }
    });
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("server printed its address")
            .expect("line");
        if let Some(rest) = line.strip_prefix("Kohtaamo is running at ") {
            break rest
                .split_whitespace()
                .next()
                .expect("address")
                .trim_end_matches('/')
                .to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, base, log }
}

/// A workspace with one active NPS survey about a package: (survey id, public key).
pub async fn seed(store: &Store) -> (i64, String) {
    let t = |s: &str| [("en".to_string(), s.to_string())].into();
    let ws = WorkspaceInput {
        slug: "crash".into(),
        name: t("Crash"),
        default_language: "en".into(),
    }
    .parse()
    .unwrap();
    let ws = store.create_workspace(&ws, None).await.unwrap();
    let pkg = PackageInput {
        slug: "p".into(),
        name: t("P"),
        description: Default::default(),
        published: false,
        elements: vec![],
    }
    .parse()
    .unwrap();
    let pkg = store.create(ws, &pkg).await.unwrap().id;
    let survey: SurveyInput = serde_json::from_value(serde_json::json!({
        "slug": "s", "name": {"en": "S"}, "status": "active", "package_id": pkg,
        "questions": [{"key": "nps", "kind": "nps", "required": true}]
    }))
    .unwrap();
    let id = store.create(ws, &survey.parse().unwrap()).await.unwrap().id;
    (id, store.survey_key(ws, id).await.unwrap())
}
