//! Privacy at size: `cargo bench -p kohtaamo --bench privacy`.
//!
//! For each backend (`BENCH_BACKENDS`, default `sqlite`): fills a fresh database with
//! `BENCH_CUSTOMERS` (1,000,000) customers, `BENCH_ENCOUNTERS` (10,000,000) encounters
//! and `BENCH_RESPONSES` (10,000,000) survey responses over the last 365 days, by SQL in
//! bulk (indexes dropped and re-created, rollups counted from the rows as the
//! migrations do), then calls the use cases in-process:
//!
//! 1. **Find and export** one person's whole record (`privacy::export`, the audit
//!    entry included) for `BENCH_PEOPLE` (200) customers: p50 / p95 / p99 and rows.
//! 2. **Preview** an erasure for `BENCH_PREVIEWS` (3) customers: the scan of free text
//!    elsewhere (after the rollback, outside the write lock). **Erase** one person
//!    (`privacy::erase`) for `BENCH_ERASE` (50) customers: the transaction with the
//!    rollup corrections; then checks that the score rollups still equal a recount of
//!    the responses.
//! 3. **Retention under load**: `BENCH_WRITERS` (32) tasks submit feedback through the
//!    real group-commit writer — alone for `BENCH_SECONDS` (10), then for the whole
//!    of a retention run (`retention::run_rule`, batches sized by time) that deletes
//!    the encounters older than `BENCH_RETENTION_DAYS` (330, about 1 M rows); prints the responses' p50 / p99 both times, and how
//!    long each retention batch held the write gate (from having it to the commit's
//!    end: SQLite's write lock is held within that).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kohtaamo_app::clock::SystemClock;
use kohtaamo_app::feedback::{Feedback, FeedbackConfig, ResponseInput};
use kohtaamo_app::privacy::{self as pv, SubjectInput};
use kohtaamo_domain::model::{Parse, Role};
use kohtaamo_domain::privacy::{Action, Retained, RetentionRule};
use kohtaamo_storage::privacy::Actor;
use kohtaamo_storage::Backend;

mod common;
use common::{env_num, pct};

/// A survey at touchpoint `tp` with an NPS and an open question.
async fn survey(store: &kohtaamo_storage::Store, ws: i64, tp: i64) -> i64 {
    let s: kohtaamo_domain::survey::SurveyInput = serde_json::from_value(serde_json::json!({
        "slug": "s", "name": {"en": "S"}, "status": "active", "touchpoint_id": tp,
        "questions": [{"key": "nps", "kind": "nps", "required": true}, {"key": "why", "kind": "text", "text": {"en": "Why?"}}]
    }))
    .unwrap();
    store.create(ws, &s.parse().unwrap()).await.unwrap().id
}

/// `n` responses over the last 365 days at touchpoint `tp`, from customers among
/// `customers` (`crm:c-N`), with an open answer; rollups counted from them.
async fn fill_responses(
    store: &kohtaamo_storage::Store,
    ws: i64,
    (sid, tp): (i64, i64),
    customers: u64,
    n: u64,
) -> f64 {
    let start = Instant::now();
    let sqlite = store.backend() == Backend::Sqlite;
    let mut conn = store.pool().acquire().await.unwrap();
    let mut dropped = vec![];
    for (name, def) in common::secondary_indexes(store, "responses").await {
        sqlx::query(&format!("DROP INDEX {name}"))
            .execute(&mut *conn)
            .await
            .unwrap();
        dropped.push(def);
    }
    let series = if sqlite {
        format!("(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s)")
    } else {
        format!("(SELECT generate_series(1, {n})::bigint AS i)")
    };
    let now = chrono::Utc::now().timestamp();
    let year = 365 * 86_400;
    let at = if sqlite {
        format!("strftime('%Y-%m-%dT%H:%M:%SZ', {now} - ((n.i * 7907) % {year}), 'unixepoch')")
    } else {
        format!("to_char(to_timestamp({now} - ((n.i * 7907) % {year})) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
    };
    sqlx::query(&format!(
        "INSERT INTO responses (workspace_id, survey_id, response_key, touchpoint_id, channel, locale, customer_ref, \
         case_ref, custom, answers, nps, csat, ces, complete, day, created_at, updated_at, suspect) \
         SELECT {ws}, {sid}, 'r-' || n.i, {tp}, 'web', 'fi', 'crm:c-' || (1 + (n.i * 104729) % {customers}), NULL, '{{}}', \
         '{{\"nps\":' || (n.i % 11) || ',\"why\":\"Juna oli myöhässä ja kukaan ei kertonut\"}}', n.i % 11, NULL, NULL, 1, \
         substr({at}, 1, 10), {at}, {at}, NULL \
         FROM {series} AS n ORDER BY n.i"
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    for def in dropped {
        sqlx::query(&def).execute(&mut *conn).await.unwrap();
    }
    sqlx::query(
        "INSERT INTO score_rollups (workspace_id, survey_id, touchpoint_id, day, channel, locale, responses, \
         nps_n, promoters, detractors, csat_n, csat_pos, ces_n, ces_sum, ces_sumsq) \
         SELECT workspace_id, survey_id, COALESCE(touchpoint_id, 0), day, COALESCE(channel, ''), COALESCE(locale, ''), \
         COUNT(*), COUNT(nps), SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END), \
         COUNT(csat), SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END), COUNT(ces), COALESCE(SUM(ces), 0), COALESCE(SUM(ces * ces), 0) \
         FROM responses WHERE complete = 1 GROUP BY workspace_id, survey_id, COALESCE(touchpoint_id, 0), day, \
         COALESCE(channel, ''), COALESCE(locale, '')",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    if !sqlite {
        sqlx::query("ANALYZE").execute(&mut *conn).await.unwrap();
    }
    start.elapsed().as_secs_f64()
}

fn ms(mut v: Vec<u32>) -> (f64, f64, f64) {
    v.sort_unstable();
    (pct(&v, 0.5), pct(&v, 0.95), pct(&v, 0.99))
}

/// Submits feedback from `writers` tasks for `secs`: sorted latencies in µs.
/// Feedback from `writers` tasks for `secs` seconds, or (with `done`) until it is set.
async fn load(
    feedback: &Arc<Feedback>,
    key: &str,
    writers: u64,
    secs: u64,
    tag: &str,
    done: Option<Arc<AtomicBool>>,
) -> Vec<u32> {
    let live = Arc::new(feedback.live(key).await.unwrap());
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = vec![];
    for w in 0..writers {
        let (feedback, live, tag, done) =
            (feedback.clone(), live.clone(), tag.to_owned(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            let mut k = 0u64;
            while match &done {
                Some(d) => !d.load(Ordering::Relaxed),
                None => Instant::now() < until,
            } {
                k += 1;
                let input: ResponseInput = serde_json::from_value(serde_json::json!({
                    "id": format!("load-{tag}-{w}-{k}"), "answers": {"nps": (k % 11) as i64}, "complete": true
                }))
                .unwrap();
                let t = Instant::now();
                feedback.submit(&live, input, None).await.expect("stored");
                lat.push(t.elapsed().as_micros() as u32);
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite".into());
    let customers = env_num("BENCH_CUSTOMERS", 1_000_000);
    let encounters = env_num("BENCH_ENCOUNTERS", 10_000_000);
    let responses = env_num("BENCH_RESPONSES", 10_000_000);
    let people = env_num("BENCH_PEOPLE", 200);
    let erase_n = env_num("BENCH_ERASE", 50);
    let previews = env_num("BENCH_PREVIEWS", 3);
    let writers = env_num("BENCH_WRITERS", 32);
    let secs = env_num("BENCH_SECONDS", 10);
    let days = env_num("BENCH_RETENTION_DAYS", 330) as i64;
    rt.block_on(async {
        for name in backends.split(',') {
            let backend = match name.trim() {
                "sqlite" => Backend::Sqlite,
                "postgres" => Backend::Postgres,
                _ => continue,
            };
            let b = common::workspace(backend).await;
            let slugs: Vec<String> = (0..20).map(|k| format!("tp{k}")).collect();
            let (unit, tps) = b.touchpoints(&slugs).await;
            let store = b.store.clone();
            let took = common::fill_encounters(&store, (b.ws, unit, &tps), customers, encounters).await;
            let sid = survey(&store, b.ws, tps[0]).await;
            let took_r = fill_responses(&store, b.ws, (sid, tps[0]), customers, responses).await;
            println!("{name:<9} filled {encounters} encounters, {customers} customers in {took:.0} s; {responses} responses in {took_r:.0} s");
            let officer = Actor::system();
            let pick = |k: u64| 1 + (k * 2_654_435_761) % customers;

            // 1. Find and export.
            let mut lat = vec![];
            let mut rows = 0usize;
            for k in 0..people {
                let who = SubjectInput { identifiers: vec![format!("crm:c-{}", pick(k))], ..Default::default() };
                let t = Instant::now();
                let e = pv::export(&store, b.ws, (&officer, Role::Admin), &who).await.unwrap();
                lat.push(t.elapsed().as_micros() as u32);
                rows += e.record.tables.values().map(Vec::len).sum::<usize>();
            }
            let (p50, p95, p99) = ms(lat);
            println!("{name:<9} find + export one person ({} rows on average): p50 {p50:.1} / p95 {p95:.1} / p99 {p99:.1} ms", rows as u64 / people);

            // 2. Preview (the review scan of free text elsewhere), then erase.
            let mut review = vec![];
            for k in 0..previews {
                let who = SubjectInput { identifiers: vec![format!("crm:c-{}", pick(people + erase_n + k))], ..Default::default() };
                let e = pv::erase(&store, b.ws, (&officer, Role::Admin), &who, true).await.unwrap();
                review.push((e.review_ms * 1000) as u32);
            }
            let (r50, _, _) = ms(review.clone());
            let rmax = review.iter().copied().max().unwrap_or(0) as f64 / 1000.0;
            println!("{name:<9} erasure preview: the review scan of free text elsewhere p50 {r50:.0} / max {rmax:.0} ms (outside the write lock)");
            let mut tx = vec![];
            let mut gone = 0;
            for k in 0..erase_n {
                let who = SubjectInput { identifiers: vec![format!("crm:c-{}", pick(people + k))], ..Default::default() };
                let e = pv::erase(&store, b.ws, (&officer, Role::Admin), &who, false).await.unwrap();
                tx.push((e.transaction_ms * 1000) as u32);
                gone += e.total();
            }
            let (t50, t95, t99) = ms(tx);
            println!("{name:<9} erase one person ({} rows on average): the transaction with rollup corrections p50 {t50:.0} / p95 {t95:.0} / p99 {t99:.0} ms", gone / erase_n as i64);
            let (rolled, counted): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT CAST(SUM(responses) AS BIGINT) FROM score_rollups), (SELECT COUNT(*) FROM responses WHERE complete = 1)",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
            assert_eq!(rolled, counted, "rollups equal a recount after the erasures");

            // 3. Retention under feedback load.
            let feedback = Arc::new(Feedback::new(store.clone(), &FeedbackConfig { per_minute_ip: 0, per_minute_survey: 0, ..Default::default() }, Arc::new(SystemClock)));
            let key = store.survey_key(b.ws, sid).await.unwrap();
            let alone = load(&feedback, &key, writers, secs, "alone", None).await;
            let n_alone = alone.len();
            let (a50, _, a99) = ms(alone);
            println!("{name:<9} feedback alone: {:.0}/s, p50 {a50:.1} / p99 {a99:.1} ms", n_alone as f64 / secs as f64);
            let rule = RetentionRule { kind: Retained::Encounters, days: Some(days), action: Action::Delete };
            let cutoff = kohtaamo_storage::time_text(chrono::Utc::now() - chrono::Duration::days(days));
            let done = Arc::new(AtomicBool::new(false));
            let retention = {
                let store = store.clone();
                let done = done.clone();
                let cutoff = cutoff.clone();
                let ws = b.ws;
                tokio::spawn(async move {
                    let mut pace = kohtaamo_app::retention::Pace::recording();
                    let start = Instant::now();
                    let removed = kohtaamo_app::retention::run_rule(&store, ws, &rule, &cutoff, &Default::default(), &mut pace).await.unwrap();
                    done.store(true, Ordering::Relaxed);
                    (removed, pace, start.elapsed().as_secs_f64())
                })
            };
            let during = load(&feedback, &key, writers, secs, "during", Some(done)).await;
            let n_during = during.len();
            let (d50, _, d99) = ms(during);
            let (removed, pace, took) = retention.await.unwrap();
            let holds = pace.holds.unwrap_or_default();
            let worst = pace.longest.as_secs_f64() * 1000.0;
            let batches = holds.len().max(1);
            let (h50, _, h99) = ms(holds);
            println!("{name:<9} feedback during retention (all of it): {:.0}/s, p50 {d50:.1} / p99 {d99:.1} ms", n_during as f64 / took);
            println!("{name:<9} retention removed {removed} encounters in {took:.0} s in {batches} batches ({} rows each on average); each batch holding the write gate (gate had → commit done): p50 {h50:.1} / p99 {h99:.1} / max {worst:.1} ms", removed / batches as i64);
        }
    });
}
