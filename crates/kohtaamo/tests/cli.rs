//! The `kohtaamo` binary as a user runs it: `serve --demo`, `token create`, `export`,
//! `import`, and a graceful stop on SIGTERM. Backend from `KOHTAAMO_TEST_BACKEND`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kohtaamo_storage::testing::{backend_from_env, fresh, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_kohtaamo");
const PW: &str = "cli-test-password";

fn kohtaamo(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--database-url")
        .arg(&db.url)
        .args(args)
        .env("KOHTAAMO_LOG", "warn")
        .output()
        .expect("run kohtaamo")
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &TestDb) -> Server {
    let mut child = Command::new(BIN)
        .args([
            "--database-url",
            &db.url,
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
        ])
        .env("KOHTAAMO_ADMIN_PASSWORD", PW)
        .env("KOHTAAMO_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("Kohtaamo is running at ") {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

#[tokio::test]
async fn serve_demo_token_and_export() {
    let db = fresh(backend_from_env()).await;
    let server = serve(&db);
    let out = kohtaamo(&db, &["token", "create", "--user", "admin"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/api/v1/workspaces/demo/packages", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["slug"] == "henkiloliikenne"));
    // The admin can log in with the password from the environment.
    let r = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&serde_json::json!({"username": "admin", "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // CLI export equals the API's.
    let api_yaml = client
        .get(format!("{}/api/v1/workspaces/demo/model", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let out = kohtaamo(&db, &["export", "--workspace", "demo"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), api_yaml);
    // Revoked from the CLI, refused by the API.
    let out = kohtaamo(&db, &["token", "revoke", "--user", "admin", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = client
        .get(format!("{}/api/v1/workspaces", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn import_reports_errors_with_paths_and_exit_code() {
    let db = fresh(backend_from_env()).await;
    let dir = std::env::temp_dir().join(format!("kohtaamo-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "kohtaamo: 1\nworkspace: {slug: w, name: {fi: W}, default_language: fi}\nunits:\n  - {slug: a, name: {}, parent: ghost}\n").unwrap();
    let out = kohtaamo(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("units[0].name") && err.contains("units[0].parent"),
        "{err}"
    );
    let out = kohtaamo(&db, &["export", "--workspace", "w"]);
    assert!(!out.status.success(), "nothing was imported");
    let good = dir.join("good.yaml");
    std::fs::write(&good, "kohtaamo: 1\nworkspace: {slug: w, name: {fi: W}, default_language: fi}\nunits:\n  - {slug: a, name: {fi: A}}\n").unwrap();
    let out = kohtaamo(&db, &["import", good.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "w: 2 created, 0 updated, 0 unchanged, 0 deleted"
    );
    let out = kohtaamo(&db, &["migrate"]);
    // The latest version is the number of distinct version prefixes of the migration
    // files (a migration written per backend has two).
    let latest = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../kohtaamo-storage/migrations"
    ))
    .unwrap()
    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
    .filter(|n| n.ends_with(".sql"))
    .map(|n| n[..4].to_owned())
    .collect::<std::collections::BTreeSet<_>>()
    .len();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains(&format!("schema version {latest}")), "{said}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let db = fresh(backend_from_env()).await;
    let mut server = serve(&db);
    let out = kohtaamo(&db, &["token", "create", "--user", "admin"]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let addr = server.base.trim_start_matches("http://").to_string();
    // Start a request and send only half of its body.
    let body = serde_json::json!({"slug": "late-unit", "name": {"en": "Arrived during shutdown"}})
        .to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST /api/v1/workspaces/demo/units HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_millis(300));
    conn.write_all(rest.as_bytes()).unwrap();
    let mut resp = String::new();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = conn.read_to_string(&mut resp);
    assert!(
        resp.starts_with("HTTP/1.1 201"),
        "in-flight request was cut: {resp:?}"
    );
    // The server exits cleanly, and the write it acknowledged is stored.
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let out = kohtaamo(&db, &["export", "--workspace", "demo"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("late-unit"));
}

#[tokio::test]
async fn insight_report_as_markdown_and_json() {
    let db = fresh(backend_from_env()).await;
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../kohtaamo-app/demo/demo.yaml"
    );
    assert!(kohtaamo(&db, &["import", demo]).status.success());
    let md = String::from_utf8(
        kohtaamo(
            &db,
            &["report", "insight", "--workspace", "demo", "--lang", "en"],
        )
        .stdout,
    )
    .unwrap();
    for heading in [
        "# Organisation insight: Demo: Rail company",
        "## Who knows its customers",
        "## Chains to the end customer",
        "## Hand-offs",
        "## The five interfaces",
        "## Processes and the journey",
        "## Service packages",
    ] {
        assert!(md.contains(heading), "missing {heading}\n{md}");
    }
    assert!(md.contains("IT → Customer service → Commuter"), "{md}");
    let fi = String::from_utf8(kohtaamo(&db, &["report", "insight", "--workspace", "demo"]).stdout)
        .unwrap();
    assert!(
        fi.starts_with("# Organisaation tilannekuva: Demo: Rautatieyhtiö"),
        "the workspace default (fi): {fi}"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &kohtaamo(
            &db,
            &[
                "report",
                "insight",
                "--workspace",
                "demo",
                "--format",
                "json",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert!(json["orphan_steps"]
        .as_array()
        .is_some_and(|a| a.len() == 1));
    let out = kohtaamo(&db, &["report", "insight", "--workspace", "nope"]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn insight_report_and_jobs_as_of_a_day() {
    let db = fresh(backend_from_env()).await;
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../kohtaamo-app/demo/demo.yaml"
    );
    assert!(kohtaamo(&db, &["import", demo]).status.success());
    let stale_on = |day: &str| {
        let out = kohtaamo(
            &db,
            &[
                "report",
                "insight",
                "--workspace",
                "demo",
                "--format",
                "json",
                "--as-of",
                day,
            ],
        );
        assert!(out.status.success(), "{out:?}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["coverage"]["stale_relations"]
            .as_array()
            .unwrap()
            .len()
    };
    // Computed by hand from demo.yaml's twelve relations: on 2026-03-30 the stale ones
    // are the never-reviewed one and those due 2025-09-28 and 2026-03-01; the one
    // reviewed 2025-10-01 every 180 days falls due the day after; by the end of 2027
    // every relation is due.
    assert_eq!(stale_on("2026-03-30"), 3);
    assert_eq!(stale_on("2026-03-31"), 4);
    assert_eq!(stale_on("2027-12-31"), 12);
    let out = kohtaamo(
        &db,
        &[
            "report",
            "insight",
            "--workspace",
            "demo",
            "--as-of",
            "not-a-day",
        ],
    );
    assert!(!out.status.success());
    // The review job as of a day: notifications once per relation and due date.
    let run = |day: &str| {
        let out = kohtaamo(&db, &["jobs", "run", "--job", "review", "--as-of", day]);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run("2027-12-31");
    let n: usize = first
        .trim()
        .strip_prefix("review cycle: ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 0, "{first}");
    assert_eq!(run("2027-12-31").trim(), "review cycle: 0");
    assert!(!kohtaamo(&db, &["jobs", "run", "--job", "nope"])
        .status
        .success());
    // The journey-mining jobs by name, one line each.
    for (job, name) in [
        ("mining-rollups", "journey-mining rollups: "),
        ("mining-reports", "journey-mining reports: "),
    ] {
        let out = kohtaamo(&db, &["jobs", "run", "--job", job]);
        assert!(out.status.success(), "{out:?}");
        let line = String::from_utf8(out.stdout).unwrap();
        assert!(
            line.trim()
                .strip_prefix(name)
                .is_some_and(|n| n.parse::<usize>().is_ok()),
            "{line}"
        );
    }
}

#[tokio::test]
async fn a_taken_port_stops_serve_before_it_creates_anything() {
    let db = fresh(backend_from_env()).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["--database-url", &db.url, "serve", "--bind", &addr])
        .env("KOHTAAMO_DATA_DIR", dir.path())
        .env("KOHTAAMO_LOG", "info")
        .env_remove("KOHTAAMO_ADMIN_PASSWORD")
        .output()
        .expect("run kohtaamo");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    // Before: the first admin was created and its password printed, then the bind failed.
    assert!(!stdout.contains("password"), "{stdout}");
    let store = kohtaamo_storage::Store::connect(&db.url).await.unwrap();
    assert!(store.user_by_name("admin").await.unwrap().is_none());
    // Logs written to a pipe carry no terminal colour codes.
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

/// `import encounters`: a file with a bad row changes nothing and names the line; with
/// the row fixed everything is stored, touchpoints matched by name; importing it again
/// stores nothing twice; `--skip-bad` stores the good rows of a bad file.
#[tokio::test]
async fn import_encounters_checks_every_row_first() {
    let db = fresh(backend_from_env()).await;
    let dir = std::env::temp_dir().join(format!("kohtaamo-cli-enc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.yaml");
    std::fs::write(&model, "kohtaamo: 1\nworkspace: {slug: w, name: {fi: W}, default_language: fi}\nunits:\n  - {slug: ops, name: {fi: Operaatiot}}\nsegments:\n  - {slug: s, name: {fi: S}}\njourneys:\n  - slug: trip\n    name: {fi: Matka}\n    segment: s\n    stages:\n      - slug: go\n        name: {fi: Mene}\n        touchpoints:\n          - {slug: refund, name: {fi: Hyvityspyyntö, en: Refund request}, channel: phone, owner: {unit: ops}, lane: frontstage}\n").unwrap();
    let out = kohtaamo(&db, &["import", model.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = dir.join("events.csv");
    let write = |rows: &str| {
        std::fs::write(
            &csv,
            format!("Aika;Palvelupiste;Asiakas;Juna\n{rows}").replace(';', ","),
        )
        .unwrap()
    };
    write("2026-03-01 09:00;Hyvityspyyntö;crm:1;IC 27\n2026-03-02 10:00;Nowhere;crm:2;IC 28\n2026-03-03T10:00:00+02:00;refund;crm:3;\n");
    let map = "at=Aika,touchpoint=Palvelupiste,customer=Asiakas,attr.train=Juna";
    let args = [
        "import",
        "encounters",
        csv.to_str().unwrap(),
        "--workspace",
        "w",
        "--map",
        map,
    ];
    let out = kohtaamo(&db, &args);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("events.csv:3: touchpoint: no touchpoint 'Nowhere'"),
        "{err}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 rows, 0 stored, 0 already stored, 1 bad")
    );
    // --skip-bad stores the two good rows.
    let mut skip = args.to_vec();
    skip.push("--skip-bad");
    let out = kohtaamo(&db, &skip);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 rows, 2 stored, 0 already stored, 1 bad")
    );
    // Fixed and imported again: only the fixed row is new.
    write("2026-03-01 09:00;Hyvityspyyntö;crm:1;IC 27\n2026-03-02 10:00;Refund request;crm:2;IC 28\n2026-03-03T10:00:00+02:00;refund;crm:3;\n");
    let out = kohtaamo(&db, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 rows, 1 stored, 2 already stored, 0 bad"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A mapping that names a column the file lacks is refused before anything.
    let out = kohtaamo(
        &db,
        &[
            "import",
            "encounters",
            csv.to_str().unwrap(),
            "--workspace",
            "w",
            "--map",
            "at=When",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("map.at"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = kohtaamo_storage::Store::connect(&db.url).await.unwrap();
    let ws = store.workspace_by_slug("w").await.unwrap().unwrap().id;
    let all = store
        .encounters(
            ws,
            &kohtaamo_storage::encounters::EncounterFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert!(all
        .iter()
        .all(|e| e.source == "import" && e.touchpoint_id.is_some()));
    assert_eq!(
        all.iter()
            .find(|e| e.at == "2026-03-01T09:00:00Z")
            .unwrap()
            .attributes["train"],
        "IC 27"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `privacy export`, `privacy erase` (dry run, then for real, then again) and `audit
/// verify`, which exits non-zero once an audit entry is changed behind its back.
#[tokio::test]
async fn privacy_export_erase_and_audit_verify() {
    let db = fresh(backend_from_env()).await;
    let dir = std::env::temp_dir().join(format!("kohtaamo-cli-privacy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.yaml");
    std::fs::write(&model, "kohtaamo: 1\nworkspace: {slug: w, name: {fi: W}, default_language: fi}\nunits:\n  - {slug: ops, name: {fi: Operaatiot}}\nsegments:\n  - {slug: s, name: {fi: S}}\njourneys:\n  - slug: trip\n    name: {fi: Matka}\n    segment: s\n    stages:\n      - slug: go\n        name: {fi: Mene}\n        touchpoints:\n          - {slug: refund, name: {fi: Hyvitys}, channel: phone, owner: {unit: ops}, lane: frontstage}\n").unwrap();
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(kohtaamo(&db, &["import", model.to_str().unwrap()]));
    let csv = dir.join("events.csv");
    std::fs::write(&csv, "at,touchpoint,customer,text\n2026-03-01 09:00,refund,crm:7001,Soitti hyvityksestä\n2026-03-02 09:00,refund,crm:7001,Soitti uudestaan\n2026-03-02 10:00,refund,crm:8002,Toinen asiakas\n").unwrap();
    ok(kohtaamo(
        &db,
        &[
            "import",
            "encounters",
            csv.to_str().unwrap(),
            "--workspace",
            "w",
        ],
    ));

    let out_file = dir.join("export.json");
    let who = ["--workspace", "w", "--identifier", "crm:7001"];
    let mut args = vec!["privacy", "export"];
    args.extend(who);
    args.extend(["--output", out_file.to_str().unwrap()]);
    ok(kohtaamo(&db, &args));
    let export: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(export["found"], serde_json::json!(true));
    assert_eq!(
        export["record"]["tables"]["encounters"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A backup taken before the erasure.
    let backup = dir.join("before-erasure.backup");
    let _ = std::fs::remove_file(&backup);
    let said = ok(kohtaamo(&db, &["backup", backup.to_str().unwrap()]));
    assert!(said.contains("backed up"), "{said}");
    let out = kohtaamo(&db, &["backup", backup.to_str().unwrap()]);
    assert!(!out.status.success(), "an existing file is not overwritten");

    let mut dry = vec!["privacy", "erase"];
    dry.extend(who);
    dry.push("--dry-run");
    let said = ok(kohtaamo(&db, &dry));
    assert!(said.contains("would erase 2 encounters"), "{said}");
    let mut erase = vec!["privacy", "erase"];
    erase.extend(who);
    let said = ok(kohtaamo(&db, &erase));
    assert!(
        said.contains("erased 2 encounters") && said.contains("deletion ledger entry"),
        "{said}"
    );
    let said = ok(kohtaamo(&db, &erase));
    assert!(said.contains("nothing held about this person"), "{said}");
    let mut bad = vec!["privacy", "erase", "--workspace", "w"];
    bad.extend(["--identifier", "email:nope"]);
    let out = kohtaamo(&db, &bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("identifiers[0]"));

    // SQLite: no restore under a running server (it would write to the replaced file).
    if db.url.starts_with("sqlite") {
        let server = serve(&db);
        let out = kohtaamo(&db, &["restore", backup.to_str().unwrap()]);
        assert!(!out.status.success(), "refused while serving");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("a server is serving"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        drop(server);
    }
    // Restoring the old backup does not bring the erased person back; the other
    // customer is there.
    let said = ok(kohtaamo(&db, &["restore", backup.to_str().unwrap()]));
    assert!(
        said.contains("2 rows of erased people removed again") || said.contains("removed again"),
        "{said}"
    );
    let export_of = |id: &str| {
        let out = kohtaamo(
            &db,
            &["privacy", "export", "--workspace", "w", "--identifier", id],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(export_of("crm:7001")["found"], serde_json::json!(false));
    assert_eq!(
        export_of("crm:8002")["record"]["tables"]["encounters"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The ledger kept apart restores the erasure into a database that never knew it.
    let ledger = dir.join("ledger.json");
    ok(kohtaamo(
        &db,
        &["privacy", "ledger", "--output", ledger.to_str().unwrap()],
    ));
    let lost = fresh(backend_from_env()).await;
    ok(kohtaamo(
        &lost,
        &[
            "restore",
            backup.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
        ],
    ));
    let out = kohtaamo(
        &lost,
        &[
            "privacy",
            "export",
            "--workspace",
            "w",
            "--identifier",
            "crm:7001",
        ],
    );
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["found"], serde_json::json!(false), "{e}");

    let said = ok(kohtaamo(&db, &["audit", "verify"]));
    assert!(said.contains("w: audit chain intact"), "{said}");
    let store = kohtaamo_storage::Store::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE audit_log SET detail = 'x' WHERE seq = 1")
        .execute(store.pool())
        .await
        .unwrap();
    let out = kohtaamo(&db, &["audit", "verify", "--workspace", "w"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("BROKEN"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
