//! What the benches that drive the real server share: settings from the environment,
//! a free port, starting `kohtaamo serve` and waiting for it, percentiles.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A number from the environment, or `default`.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// Starts the release `kohtaamo serve` on `port` over the database at `url` (jobs and
/// rate limits off, logs at warn) with `env` besides, and waits until it listens.
pub fn serve(url: &str, data_dir: &Path, port: u16, env: &[(&str, String)]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kohtaamo"))
        .arg("serve")
        .env("KOHTAAMO_BIND", format!("127.0.0.1:{port}"))
        .env("KOHTAAMO_DATABASE_URL", url)
        .env("KOHTAAMO_DATA_DIR", data_dir)
        .env("KOHTAAMO_LOG", "warn")
        .env("KOHTAAMO_REVIEW_CYCLE_MINUTES", "0")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .spawn()
        .expect("start kohtaamo serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

/// The `p` quantile (0–1) of sorted microseconds, in milliseconds (0 when empty).
pub fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}
