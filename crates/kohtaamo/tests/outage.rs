//! The real server when its database goes away (issue 12, points 12 and 13):
//! - PostgreSQL unreachable (a proxy in front of it cuts every connection and refuses
//!   new ones): posts answer 503 with `Retry-After` within seconds, `/readyz` within
//!   1 s, the outage is logged once and its end once, and posts succeed again when the
//!   database is back;
//! - the disk under SQLite full (a small tmpfs filled up; needs root to mount it, as
//!   CI has): 503 with `Retry-After`, `/readyz` says `disk full`, logged once, nothing
//!   acknowledged is lost, and writes resume when space returns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kohtaamo_storage::testing::fresh;
use kohtaamo_storage::{Backend, Store};
use reqwest::StatusCode;

mod common;
use common::{seed, start, Server};

/// A TCP proxy to `target` that can be switched off: off, it drops every open
/// connection and closes new ones at once, as a stopped database server does.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: &'static str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let (d, c) = (down.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let mut cut = c.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { port, down, cut }
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut.send_modify(|g| *g += 1);
        }
    }
}

async fn post(client: &reqwest::Client, url: &str, id: &str) -> (StatusCode, Option<String>) {
    let r = client
        .post(url)
        .json(&serde_json::json!({"id": id, "answers": {"nps": 9}}))
        .send()
        .await
        .expect("the server answers");
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (r.status(), retry)
}

async fn readyz(client: &reqwest::Client, base: &str) -> (StatusCode, String, Duration) {
    let t0 = Instant::now();
    let r = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz answers");
    let s = r.status();
    (s, r.text().await.unwrap_or_default(), t0.elapsed())
}

/// The outage was logged as one ERROR line (no per-request lines, no 500s), in plain
/// text.
fn outage_logged_once(server: &Server) {
    assert_eq!(
        server.logged("database unavailable;"),
        1,
        "logged once: {:?}",
        server.log
    );
    assert_eq!(
        server.logged("ERROR"),
        1,
        "one error line: {:?}",
        server.log
    );
    assert_eq!(server.logged("internal error"), 0, "{:?}", server.log);
    assert_eq!(server.logged("\u{1b}["), 0, "no colour codes in a log file");
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_answered_with_503_within_seconds() {
    let db = fresh(Backend::Postgres).await;
    let store = Store::connect(&db.url).await.unwrap();
    let (survey, key) = seed(&store).await;
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let proxied = db.url.replacen(":5432/", &format!(":{}/", proxy.port), 1);
    assert_ne!(proxied, db.url, "the test URL names port 5432: {}", db.url);
    let dir = tempfile::tempdir().unwrap();
    let server: Server = start(&proxied, dir.path(), &[]);
    let c = client();
    let url = format!("{}/api/public/v1/surveys/{key}/responses", server.base);
    let mut acked = vec![];
    for n in 0..10 {
        let id = format!("before-{n:03}");
        assert_eq!(post(&c, &url, &id).await.0, StatusCode::CREATED);
        acked.push(id);
    }
    assert_eq!(readyz(&c, &server.base).await.0, StatusCode::OK);

    proxy.set_down(true);
    let (s, body, took) = readyz(&c, &server.base).await;
    assert_eq!(
        (s, body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    );
    assert!(took < Duration::from_millis(1000), "readyz took {took:?}");
    for n in 0..4 {
        let t0 = Instant::now();
        let (s, retry) = post(&c, &url, &format!("during-{n:03}")).await;
        let took = t0.elapsed();
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "post {n}");
        assert_eq!(retry.as_deref(), Some("5"));
        assert!(
            took < Duration::from_secs(5),
            "post {n} took {took:?} (before: ~30 s)"
        );
    }
    let (s, _, took) = readyz(&c, &server.base).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(took < Duration::from_millis(1000), "readyz took {took:?}");

    proxy.set_down(false);
    let t0 = Instant::now();
    let mut n = 0;
    loop {
        let id = format!("after-{n:03}");
        n += 1;
        match post(&c, &url, &id).await.0 {
            StatusCode::CREATED => {
                acked.push(id);
                break;
            }
            StatusCode::SERVICE_UNAVAILABLE if t0.elapsed() < Duration::from_secs(15) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!("after the outage: {other}"),
        }
    }
    assert_eq!(readyz(&c, &server.base).await.0, StatusCode::OK);
    let stored = store.response_keys(survey).await.unwrap();
    for id in &acked {
        assert!(stored.contains_key(id), "acknowledged {id} is stored");
    }
    assert!(
        stored.keys().all(|k| !k.starts_with("during-")),
        "refused posts stored nothing"
    );
    assert_eq!(
        server.logged("database available again"),
        1,
        "{:?}",
        server.log
    );
    outage_logged_once(&server);
}

/// A tmpfs of `mb` megabytes mounted on a fresh directory, unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(mb: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "mounting a {mb} MB tmpfs failed: this test fills a disk and needs root (CI runs as root)"
        );
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

/// Writes a file until the disk says it is full.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_answered_with_503_and_logged_once() {
    let disk = Tmpfs::mount(8);
    let root = disk.0.path();
    let url = format!("sqlite://{}/kohtaamo.db?mode=rwc", root.display());
    let (survey, key) = {
        let store = Store::connect(&url).await.unwrap();
        let out = seed(&store).await;
        store.close().await;
        out
    };
    let server: Server = start(&url, root, &[]);
    let c = client();
    let post_url = format!("{}/api/public/v1/surveys/{key}/responses", server.base);
    let mut acked = vec![];
    for n in 0..10 {
        let id = format!("before-{n:03}");
        assert_eq!(post(&c, &post_url, &id).await.0, StatusCode::CREATED);
        acked.push(id);
    }
    let filler = root.join("filler");
    fill(&filler);
    // Posts until one is refused: the WAL may still have room for a few.
    let mut refused = 0;
    for n in 0..400 {
        let id = format!("full-{n:03}");
        match post(&c, &post_url, &id).await {
            (StatusCode::CREATED, _) => acked.push(id),
            (StatusCode::SERVICE_UNAVAILABLE, retry) => {
                assert_eq!(retry.as_deref(), Some("30"));
                refused += 1;
                if refused == 5 {
                    break;
                }
            }
            (other, _) => panic!("on a full disk: {other} (before: 500)"),
        }
    }
    assert_eq!(refused, 5, "a full disk refuses writes");
    let (s, body, took) = readyz(&c, &server.base).await;
    assert_eq!(
        (s, body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "disk full")
    );
    assert!(took < Duration::from_millis(1000), "readyz took {took:?}");
    outage_logged_once(&server);

    std::fs::remove_file(&filler).unwrap();
    let (s, _, _) = readyz(&c, &server.base).await;
    assert_eq!(s, StatusCode::OK, "space is back");
    for n in 0..10 {
        let id = format!("after-{n:03}");
        assert_eq!(post(&c, &post_url, &id).await.0, StatusCode::CREATED);
        acked.push(id);
    }
    assert_eq!(
        server.logged("database available again"),
        1,
        "{:?}",
        server.log
    );
    drop(server);
    let store = Store::connect(&url).await.unwrap();
    let stored = store.response_keys(survey).await.unwrap();
    for id in &acked {
        assert!(stored.contains_key(id), "acknowledged {id} is stored");
    }
    store.close().await;
}
