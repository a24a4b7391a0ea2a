//! Journey mining over HTTP: a touchpoint's presence through the model API, the mining
//! report of a journey (instances, variants, deviations, funnel), its event log and
//! Petri net as downloads, and bad queries answered with every bad field.

use kohtaamo_domain::model::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_journeys_actual_paths_are_mined_and_exported() {
    let app = spawn_app().await;
    let ws = app.workspace("w").await;
    let ops = app.create("w", "units", unit("ops")).await;
    let sales = app.create("w", "units", unit("sales")).await;
    let (j, stages) = app.trip("w", &["buy", "after"]).await;
    let (buy, after) = (stages[0], stages[1]);
    let tp = |stage: i64, slug: &str, owner: i64, channel: &str| {
        json!({"stage_id": stage, "slug": slug, "name": texts(slug), "channel": channel,
               "owner": {"unit": owner}, "lane": "frontstage"})
    };
    app.create("w", "touchpoints", tp(buy, "buy-ticket", sales, "web"))
        .await;
    // A bad presence is refused; a good one is stored and read back.
    let mut refund = tp(after, "refund", ops, "phone");
    refund["presence"] = json!("sometimes");
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/touchpoints",
            &app.admin,
            refund.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["presence"].is_string(), "{b}");
    refund["presence"] = json!("optional");
    let refund_id = app.create("w", "touchpoints", refund).await;
    let (_, b) = app
        .get(
            &format!("/api/v1/workspaces/w/touchpoints/{refund_id}"),
            &app.admin,
        )
        .await;
    assert_eq!(b["presence"], "optional", "{b}");

    let enc = |id: &str, at: &str, tp: &str, case: &str| json!({"id": id, "at": at, "touchpoint": tp, "kind": "contact", "case_ref": case, "customer": format!("crm:{case}")});
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/encounters",
            &app.admin,
            json!([
                enc("1", "2026-03-01T09:00:00Z", "buy-ticket", "K1"),
                enc("2", "2026-03-02T09:00:00Z", "refund", "K1"),
                enc("3", "2026-03-01T10:00:00Z", "buy-ticket", "K2"),
                enc("4", "2026-03-03T10:00:00Z", "refund", "K3"),
            ]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    // A viewer reads the report.
    let viewer = app.member("viewer", ws, Role::Viewer).await;
    let base = format!("/api/v1/workspaces/w/journeys/{j}");
    let period = "from=2026-02-01&to=2026-03-31";
    let (s, m) = app.get(&format!("{base}/mining?{period}"), &viewer).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(
        (m["instances"].as_u64(), m["encounters"].as_u64()),
        (Some(3), Some(4))
    );
    let paths: Vec<Value> = m["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["path"].clone())
        .collect();
    assert_eq!(paths.len(), 3, "{m}");
    assert!(paths.contains(&json!(["buy-ticket", "refund"])));
    // K3 reached "after" without "buy": a skipped stage. K2 fits (refund is optional).
    let skipped: Vec<&Value> = m["deviations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "skipped_stage")
        .collect();
    assert_eq!(skipped.len(), 1, "{m}");
    assert_eq!(skipped[0]["stage"]["slug"], "buy");
    assert_eq!(skipped[0]["examples"][0]["case_ref"], "K3");
    assert_eq!(m["fitness"]["fitting_instances"], 2);
    let reached: Vec<u64> = m["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reached"].as_u64().unwrap())
        .collect();
    assert_eq!(reached, vec![2, 2]);

    // The flow from the rollups counts the same (the read brings them up to date).
    let (s, f) = app.get(&format!("{base}/flow?{period}"), &viewer).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(
        (f["source"].as_str(), f["instances"].as_u64()),
        (Some("rollups"), Some(3)),
        "{f}"
    );
    let edges: Vec<(String, String, u64)> = f["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"]["label"].as_str().unwrap().to_owned(),
                e["to"]["label"].as_str().unwrap().to_owned(),
                e["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        edges,
        vec![("buy-ticket".into(), "refund".into(), 1)],
        "{f}"
    );
    let funnel: Vec<(u64, u64)> = f["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["reached"].as_u64().unwrap(),
                x["stopped"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(funnel, vec![(2, 1), (2, 2)], "{f}");
    // One day inside the period: only K2's and K1's first encounters.
    let (_, f) = app
        .get(
            &format!("{base}/flow?from=2026-03-01&to=2026-03-01"),
            &viewer,
        )
        .await;
    assert_eq!(
        (f["instances"].as_u64(), f["edges"].as_array().map(Vec::len)),
        (Some(2), Some(0)),
        "{f}"
    );
    let (s, b) = app
        .get(&format!("{base}/flow?by=someone&to=x"), &viewer)
        .await;
    assert_eq!(s.as_u16(), 422, "{b}");

    // The event log and the Petri net.
    let csv = app
        .client
        .get(app.url(&format!("{base}/mining/events.csv?{period}")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    let pnml = app
        .client
        .get(app.url(&format!("{base}/journey.pnml")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert!(pnml.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    let xml = pnml.text().await.unwrap();
    assert!(
        xml.contains("<transition id=\"t-buy-ticket\">")
            && xml.contains("<transition id=\"t-refund\">"),
        "{xml}"
    );

    // Every bad field at once; an unknown journey; another workspace's outsider.
    let (s, b) = app
        .get(
            &format!(
                "{base}/mining?by=person&gap_hours=0&variants=0&from=2026-04-01&to=2026-03-01"
            ),
            &viewer,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["from"].is_string(), "{b}");
    let (s, b) = app
        .get(
            &format!("{base}/mining?by=person&gap_hours=0&variants=0"),
            &viewer,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    for f in ["by", "gap_hours", "variants"] {
        assert!(b["fields"][f].is_string(), "{f}: {b}");
    }
    let (s, _) = app
        .get("/api/v1/workspaces/w/journeys/999999/mining", &viewer)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .get("/api/v1/workspaces/w/journeys/999999/journey.pnml", &viewer)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// A report that takes longer than the server's report wait is answered `202` with
/// `Retry-After`, goes on being computed, and is there when asked again; the page
/// says it is being computed and reloads itself.
#[tokio::test]
async fn a_report_longer_than_the_wait_is_computing_then_kept() {
    let (app, j) = desk_with_no_wait().await;
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/encounters",
            &app.admin,
            json!([{"id": "1", "at": "2026-03-01T09:00:00Z", "touchpoint": "desk",
                    "kind": "contact", "case_ref": "K1"}]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let path = first_computing(
        &app,
        (1..=20).map(|day| {
            format!("/api/v1/workspaces/w/journeys/{j}/mining?from=2026-02-{day:02}&to=2026-03-31")
        }),
        |b| assert_eq!(b["instances"], 1, "{b}"),
    )
    .await;
    // Asked again, it is there (kept: the encounters did not change).
    let report = until_ok(&app, &path).await;
    let m = report.expect("the report was computed");
    assert_eq!(m["instances"], 1, "{m}");
    assert_eq!(m["stale"], false, "{m}");
    assert!(
        m["computed_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{m}"
    );
}

/// The flow counted from the log (here: another gap than the rollups') is shared and
/// kept like the report: `202` with `Retry-After` while it is counted, then the count,
/// and kept for the next request over the same encounters; the rollups' flow is
/// answered at once whatever the wait.
#[tokio::test]
async fn a_flow_from_the_log_longer_than_the_wait_is_computing_then_kept() {
    let (app, j) = desk_with_no_wait().await;
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/encounters",
            &app.admin,
            json!([{"id": "1", "at": "2026-03-01T09:00:00Z", "touchpoint": "desk",
                    "kind": "contact", "customer": "crm:1"},
                   {"id": "2", "at": "2026-03-01T10:30:00Z", "touchpoint": "desk",
                    "kind": "contact", "customer": "crm:1"}]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let base =
        format!("/api/v1/workspaces/w/journeys/{j}/flow?from=2026-02-01&to=2026-03-31&by=customer");
    // The default gap: from the rollups, at once.
    let (s, f) = app.get(&base, &app.admin).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["source"], "rollups", "{f}");
    assert_eq!(f["instances"], 1, "{f}");
    // A gap shorter than the pause between the two: two instances, from the log.
    let path = first_computing(
        &app,
        (1..=20).map(|day| {
            format!("/api/v1/workspaces/w/journeys/{j}/flow?from=2026-02-{day:02}&to=2026-03-31&by=customer&gap_hours=1")
        }),
        |b| {
            assert_eq!(
                (b["source"].as_str(), b["instances"].as_u64()),
                (Some("log"), Some(2)),
                "{b}"
            )
        },
    )
    .await;
    let f = until_ok(&app, &path).await.expect("the flow was counted");
    assert_eq!(f["source"], "log", "{f}");
    assert_eq!(f["instances"], 2, "{f}");
    assert_eq!(f["cached"], true, "{f}");
    assert_eq!(f["stale"], false, "{f}");
}

/// The first of `paths` answered `202` "being computed" with `Retry-After`. The server
/// runs its tasks on several threads, so a small computation may land within even a
/// zero wait: each path asks for another one (another period), and `check` looks at
/// each answered at once.
async fn first_computing(
    app: &TestApp,
    paths: impl Iterator<Item = String>,
    check: impl Fn(&Value),
) -> String {
    for p in paths {
        let r = app
            .client
            .get(app.url(&p))
            .bearer_auth(&app.admin)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let retry = r.headers().get("retry-after").cloned();
        let b: Value = r.json().await.unwrap();
        if status == StatusCode::OK {
            check(&b);
            continue;
        }
        assert_eq!(status, StatusCode::ACCEPTED, "{b}");
        assert_eq!(retry.unwrap(), "10");
        assert_eq!(b["status"], "computing", "{b}");
        return p;
    }
    panic!("none was answered 202");
}

/// A server that waits for no report (every report or count not kept yet is "being
/// computed"), with workspace `w`, unit `ops` and journey `trip` whose one stage `buy`
/// has the touchpoint `desk`; returns the journey's id.
async fn desk_with_no_wait() -> (TestApp, i64) {
    let app = spawn_app_with(kohtaamo_http::HttpConfig {
        report_wait: std::time::Duration::ZERO,
        ..Default::default()
    })
    .await;
    app.workspace("w").await;
    let ops = app.create("w", "units", unit("ops")).await;
    let (j, stages) = app.trip("w", &["buy"]).await;
    app.create(
        "w",
        "touchpoints",
        json!({"stage_id": stages[0], "slug": "desk", "name": texts("Desk"), "channel": "web",
               "owner": {"unit": ops}, "lane": "frontstage"}),
    )
    .await;
    (app, j)
}

/// Asks for `path` until it is answered `200` (each other answer must be `202`), at
/// most 200 times 25 ms apart.
async fn until_ok(app: &TestApp, path: &str) -> Option<Value> {
    for _ in 0..200 {
        let (s, b) = app.get(path, &app.admin).await;
        if s == StatusCode::OK {
            return Some(b);
        }
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    None
}
