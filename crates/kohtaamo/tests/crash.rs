//! Crash safety of feedback ingest on SQLite: the real server runs under load and is
//! killed with SIGKILL at random moments, again and again, on the same database. After
//! every cycle and at the end, every response the server acknowledged (2xx) must be
//! stored exactly once, retries of acknowledged ids must store nothing new, and
//! `PRAGMA integrity_check` must say `ok`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kohtaamo_storage::testing::fresh;
use kohtaamo_storage::{Backend, Store};

mod common;
use common::{seed, start};

const CYCLES: usize = 12;

/// A tiny deterministic generator (seeded per run) for kill moments.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_responses_survive_kill_9() {
    let db = fresh(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&db.url).await.unwrap();
    let (survey, key) = seed(&store).await;
    // A follow-up rule: each stored answer of NPS ≤ 2 must have exactly one follow-up,
    // opened in the transaction that stored it, whatever moment the kill came.
    {
        use kohtaamo_domain::model::Parse;
        let ws = store.workspace_by_slug("crash").await.unwrap().unwrap().id;
        let rule = kohtaamo_domain::followups::FollowUpRuleInput {
            name: "Detractors".into(),
            trigger: "nps".into(),
            threshold: Some(2),
            question: None,
            terms: None,
            scope: None,
            scope_id: None,
            unit_id: None,
            contact_hours: None,
            resolve_hours: None,
            active: None,
        };
        store.create(ws, &rule.parse().unwrap()).await.unwrap();
    }
    let seed_value = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7);
    println!("kill moments seeded with {seed_value}");
    let mut rng = Lcg(seed_value);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut acked: HashSet<String> = HashSet::new();
    for cycle in 0..CYCLES {
        let mut server = start(&db.url, dir.path(), &[]);
        let base = server.base.clone();
        let url = format!("{base}/api/public/v1/surveys/{key}/responses");
        // Retries of ids acknowledged before earlier crashes store nothing new.
        for id in acked.iter().take(5) {
            let r = client
                .post(&url)
                .json(&serde_json::json!({"id": id, "answers": {"nps": 1}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::OK, "retry of {id}");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..16)
            .map(|w| {
                let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let id = format!("c{cycle:02}-w{w:02}-{n:06}");
                        let sent = client
                            .post(&url)
                            .json(&serde_json::json!({"id": id, "answers": {"nps": n % 11}}))
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status().is_success() => mine.push(id),
                            Ok(r) => panic!("unexpected status {}", r.status()),
                            // The server died mid-request: not acknowledged.
                            Err(_) => break,
                        }
                    }
                    mine
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(150 + rng.next(600))).await;
        server.child.kill().expect("SIGKILL"); // std's kill() is SIGKILL on Unix
        server.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let mut this_cycle = 0;
        for w in workers {
            let ids = w.await.unwrap();
            this_cycle += ids.len();
            acked.extend(ids);
        }
        let stored = store.response_keys(survey).await.unwrap();
        let missing: Vec<_> = acked
            .iter()
            .filter(|id| !stored.contains_key(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "cycle {cycle}: acknowledged but lost: {missing:?}"
        );
        println!(
            "cycle {cycle}: {this_cycle} acknowledged, {} stored in all",
            stored.len()
        );
        assert!(
            this_cycle > 0,
            "the load reached the server in cycle {cycle}"
        );
    }
    // Exactly once: one row per id (the unique key), and nothing unacknowledged beyond
    // what was in flight at each kill.
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let distinct: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT response_key) FROM responses")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, distinct);
    let low: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses WHERE nps <= 2")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let (opened, opened_distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT response_key) FROM follow_ups")
            .fetch_one(store.pool())
            .await
            .unwrap();
    println!("follow-ups: {opened} for {low} stored answers of NPS ≤ 2");
    assert!(low > 0);
    assert_eq!(
        (opened, opened_distinct),
        (low, low),
        "one follow-up per low answer"
    );
    assert!(rows as usize >= acked.len());
    assert!(
        rows as usize <= acked.len() + CYCLES * 16,
        "only in-flight extras"
    );
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(check, "ok");
}

/// The same for encounters posted through the API (single ones and batches, which the
/// writer group-commits with each other): killed with SIGKILL at random moments, every
/// acknowledged encounter is stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_encounters_survive_kill_9() {
    use kohtaamo_domain::model::{Parse, UnitInput};
    let db = fresh(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&db.url).await.unwrap();
    seed(&store).await;
    let ws = store.workspace_by_slug("crash").await.unwrap().unwrap().id;
    let unit = UnitInput {
        slug: "desk".into(),
        name: [("en".to_string(), "Desk".to_string())].into(),
        description: Default::default(),
        parent_id: None,
    };
    let unit = store.create(ws, &unit.parse().unwrap()).await.unwrap().id;
    store
        .ensure_admin(Some("crash-admin-password"))
        .await
        .unwrap();
    let admin = store.user_by_name("admin").await.unwrap().unwrap();
    let token = store.create_token(admin.id, "crash").await.unwrap().1;
    let mut rng = Lcg(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(11));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let one = move |id: &str, n: usize| {
        serde_json::json!({"id": id, "at": "2026-03-01T10:00:00Z", "channel": "phone",
            "owner": {"unit": unit}, "kind": "contact", "customer": format!("crm:{}", n % 50)})
    };
    let mut acked: HashSet<String> = HashSet::new();
    for cycle in 0..6 {
        let server = start(&db.url, dir.path(), &[]);
        let url = format!("{}/api/v1/workspaces/crash/encounters", server.base);
        let stop = Arc::new(AtomicBool::new(false));
        // Acknowledgements so far this cycle: the kill comes after the first one, so
        // a slow start on a busy machine does not make a cycle without load.
        let acks = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..8)
            .map(|w| {
                let (client, url, stop, token, acks) = (
                    client.clone(),
                    url.clone(),
                    stop.clone(),
                    token.clone(),
                    acks.clone(),
                );
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        // Even workers post one encounter, odd ones batches of 20.
                        let ids: Vec<String> = (0..if w % 2 == 0 { 1 } else { 20 })
                            .map(|k| format!("c{cycle}-w{w}-{n:05}-{k:02}"))
                            .collect();
                        let body = if ids.len() == 1 {
                            one(&ids[0], n)
                        } else {
                            serde_json::Value::Array(
                                ids.iter()
                                    .enumerate()
                                    .map(|(k, id)| one(id, n + k))
                                    .collect(),
                            )
                        };
                        let sent = client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status().is_success() => {
                                acks.fetch_add(ids.len(), Ordering::Relaxed);
                                mine.extend(ids)
                            }
                            Ok(r) => panic!("unexpected status {}", r.status()),
                            Err(_) => break,
                        }
                    }
                    mine
                })
            })
            .collect();
        let waited = std::time::Instant::now();
        while acks.load(Ordering::Relaxed) == 0 && waited.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.next(600))).await;
        let mut server = server;
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let mut this_cycle = 0;
        for w in workers {
            let ids = w.await.unwrap();
            this_cycle += ids.len();
            acked.extend(ids);
        }
        let stored: HashSet<String> =
            sqlx::query_scalar::<_, String>("SELECT client_id FROM encounters")
                .fetch_all(store.pool())
                .await
                .unwrap()
                .into_iter()
                .collect();
        let missing = acked.iter().filter(|id| !stored.contains(*id)).count();
        assert_eq!(missing, 0, "cycle {cycle}: acknowledged but lost");
        println!(
            "cycle {cycle}: {this_cycle} encounters acknowledged, {} stored",
            stored.len()
        );
        assert!(
            this_cycle > 0,
            "the load reached the server in cycle {cycle}"
        );
    }
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT client_id) FROM encounters")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(rows, distinct, "exactly once");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(check, "ok");
}
