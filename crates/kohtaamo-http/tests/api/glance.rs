//! The experience at a glance: one weakest encounter, the same on every page and in the
//! API, by the experience index (docs/metrics.md).

use std::collections::BTreeSet;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

fn survey(slug: &str, tp: i64, kind: &str) -> Value {
    json!({"slug": slug, "name": texts(slug), "status": "active", "touchpoint_id": tp,
           "questions": [{"key": "q", "kind": kind, "required": true}]})
}

/// Posts `answers` (one value each) to the survey behind `key`; the n-th answer is case
/// `c{n}` (so one journey's answers join into cases for the drivers).
async fn answer_all(app: &TestApp, key: &str, prefix: &str, answers: &[i64]) {
    for (n, v) in answers.iter().enumerate() {
        let r = app
            .client
            .post(app.url(&format!("/api/public/v1/surveys/{key}/responses")))
            .json(
                &json!({"id": format!("{prefix}-answer-{n:04}"), "answers": {"q": v},
                          "hidden": {"case_ref": format!("c{n}")}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
}

/// The ids a page marks with `data-{attr}="…"`.
fn marked(html: &str, attr: &str) -> BTreeSet<i64> {
    let needle = format!("data-{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

async fn session(app: &TestApp) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let sc = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    sc.split(';').next().unwrap().to_owned()
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    let r = app
        .client
        .get(app.url(path))
        .header(COOKIE, cookie)
        .header("accept-language", "fi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn every_page_and_the_api_name_the_same_weakest_encounter() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let seg = app
        .create("w", "segments", json!({"slug": "s", "name": texts("S")}))
        .await;
    let ops = app.create("w", "units", unit("ops")).await;
    // Journey "trip": four touchpoints measured with NPS, CSAT and CES. By their own
    // scales none is obviously worst; by the index, the CES one (mean 2 → 17) is.
    let trip = app
        .create(
            "w",
            "journeys",
            json!({"slug": "trip", "name": texts("Trip"), "segment_id": seg}),
        )
        .await;
    let stage = app
        .create(
            "w",
            "stages",
            json!({"slug": "go", "name": texts("Go"), "journey_id": trip}),
        )
        .await;
    let mut tps = vec![];
    for slug in ["buy", "board", "refund", "arrive"] {
        tps.push(
            app.create(
                "w",
                "touchpoints",
                json!({"stage_id": stage, "slug": slug, "name": texts(slug),
                "channel": "web", "lane": "frontstage", "emotion": 0, "moment_of_truth": false,
                "owner": {"unit": ops}}),
            )
            .await,
        );
    }
    let plans: [(&str, Vec<i64>); 4] = [
        // NPS 0 → index 50.
        ("nps", [10, 9, 8, 3].repeat(10)),
        // CSAT 75 % → index 75.
        ("csat", [5, 4, 4, 2].repeat(10)),
        // CES mean 2 → index 16.7.
        ("ces", [1, 2, 3, 2].repeat(10)),
        // NPS +50 → index 75.
        ("nps", [10, 10, 9, 5].repeat(10)),
    ];
    for (k, (kind, answers)) in plans.iter().enumerate() {
        let s = app
            .create("w", "surveys", survey(&format!("s{k}"), tps[k], kind))
            .await;
        let key = app.survey_key("w", s).await;
        answer_all(&app, &key, &format!("t{k}"), answers).await;
    }
    // The journey's own NPS, answered by the same 40 cases: the priority matrix.
    let js = app
        .create(
            "w",
            "surveys",
            json!({"slug": "trip-nps", "name": texts("Trip"), "status": "active", "journey_id": trip,
                   "questions": [{"key": "q", "kind": "nps", "required": true}]}),
        )
        .await;
    let key = app.survey_key("w", js).await;
    answer_all(&app, &key, "j", &[10, 8, 3, 9].repeat(10)).await;
    // Journey "return": two touchpoints equally poor: tied, nobody flagged alone.
    let back = app
        .create(
            "w",
            "journeys",
            json!({"slug": "return", "name": texts("Return"), "segment_id": seg}),
        )
        .await;
    let stage2 = app
        .create(
            "w",
            "stages",
            json!({"slug": "home", "name": texts("Home"), "journey_id": back}),
        )
        .await;
    let mut tied = vec![];
    for (k, slug) in ["claim", "call"].iter().enumerate() {
        let tp = app
            .create(
                "w",
                "touchpoints",
                json!({"stage_id": stage2, "slug": slug, "name": texts(slug),
                "channel": "phone", "lane": "frontstage", "emotion": 0, "moment_of_truth": false}),
            )
            .await;
        let s = app
            .create("w", "surveys", survey(&format!("r{k}"), tp, "nps"))
            .await;
        let key = app.survey_key("w", s).await;
        answer_all(&app, &key, &format!("r{k}"), &[2, 9, 5, 7].repeat(10)).await;
        tied.push(tp);
    }
    let weakest = tps[2];

    // The API: one answer per journey, and the score rows agree.
    let (_, w) = app.get("/api/v1/workspaces/w/weakest", &app.admin).await;
    let by_journey = |j: i64| {
        w["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["journey_id"] == j)
            .cloned()
            .unwrap()
    };
    let t = by_journey(trip);
    assert_eq!(t["status"], "one", "{t}");
    assert_eq!(t["touchpoints"][0]["touchpoint_id"], weakest);
    assert_eq!(t["touchpoints"][0]["metric"], "ces");
    assert!((t["touchpoints"][0]["index"]["value"].as_f64().unwrap() - 100.0 / 6.0).abs() < 1e-9);
    assert_eq!(t["touchpoints"][0]["owner"]["unit"], ops);
    let r = by_journey(back);
    assert_eq!(r["status"], "tied", "{r}");
    let tied_api: BTreeSet<i64> = r["touchpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["touchpoint_id"].as_i64().unwrap())
        .collect();
    assert_eq!(tied_api, tied.iter().copied().collect());
    let (_, scores) = app
        .get("/api/v1/workspaces/w/scores?by=touchpoint", &app.admin)
        .await;
    let flagged = |field: &str| -> BTreeSet<i64> {
        scores["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r[field] == true)
            .map(|r| r["key"].as_i64().unwrap())
            .collect()
    };
    let one = BTreeSet::from([weakest]);
    assert_eq!(flagged("weakest"), one);
    assert_eq!(flagged("tied_weakest"), tied_api);
    let (_, o) = app.get("/api/v1/workspaces/w/overview", &app.admin).await;
    let from_overview: BTreeSet<i64> = o["weakest"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["status"] == "one")
        .map(|w| w["touchpoints"][0]["touchpoint_id"].as_i64().unwrap())
        .collect();
    assert_eq!(from_overview, one, "{o}");

    // Every page marks the same touchpoints.
    let cookie = session(&app).await;
    for path in [
        "/w/w".to_string(),
        format!("/w/w/journeys/{trip}"),
        format!("/w/w/journeys/{trip}/blueprint"),
        "/w/w/dashboard?by=touchpoint".to_string(),
        format!("/w/w/dashboard/journey/{trip}"),
        format!("/w/w/dashboard/unit/{ops}"),
        format!("/w/w/units/{ops}"),
    ] {
        let html = page(&app, &cookie, &path).await;
        assert_eq!(marked(&html, "weakest"), one, "{path}");
    }
    // The priority matrix of the journey marks the same dot.
    let html = page(&app, &cookie, &format!("/w/w/dashboard/journey/{trip}")).await;
    let matrix = &html[html.find("class=\"drivers\"").expect("a priority matrix")..];
    let matrix = &matrix[..matrix.find("</svg>").unwrap()];
    assert_eq!(
        matrix.matches("class=\"driver\"").count(),
        4,
        "four touchpoints"
    );
    assert_eq!(marked(matrix, "weakest"), one, "the matrix");
    for path in [
        "/w/w".to_string(),
        format!("/w/w/journeys/{back}"),
        "/w/w/dashboard?by=touchpoint".to_string(),
        format!("/w/w/dashboard/journey/{back}"),
    ] {
        let html = page(&app, &cookie, &path).await;
        assert_eq!(marked(&html, "tied"), tied_api, "{path}");
    }
    // The home page says what the index is, in Finnish.
    let home = page(&app, &cookie, "/w/w").await;
    assert!(home.contains("Kokemusindeksi") && home.contains("heikoin kohtaaminen"));
}

/// The journey map and blueprint print on an A3 landscape page, the package diagram on
/// A4, as PDFs with their fonts embedded.
#[tokio::test]
async fn diagrams_download_as_pdf_pages_with_fonts() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let seg = app
        .create("w", "segments", json!({"slug": "s", "name": texts("S")}))
        .await;
    let j = app
        .create(
            "w",
            "journeys",
            json!({"slug": "trip", "name": texts("Trip"), "segment_id": seg}),
        )
        .await;
    let stage = app
        .create(
            "w",
            "stages",
            json!({"slug": "go", "name": texts("Go"), "journey_id": j}),
        )
        .await;
    for k in 0..14 {
        app.create(
            "w",
            "touchpoints",
            json!({"stage_id": stage, "slug": format!("tp-{k}"),
            "name": texts(&format!("Touchpoint with a long name {k}")), "channel": "web",
            "lane": "frontstage", "emotion": 0, "moment_of_truth": false}),
        )
        .await;
    }
    let el = app
        .create(
            "w",
            "elements",
            json!({"slug": "rail", "name": texts("Rail transport"), "kind": "service"}),
        )
        .await;
    let pkg = app
        .create("w", "packages", json!({"slug": "p", "name": texts("P"), "elements": [{"element_id": el, "role": "core"}]}))
        .await;
    let cookie = session(&app).await;
    for (path, media_box) in [
        (
            format!("/w/w/journeys/{j}/map.pdf"),
            "/MediaBox [0 0 1190.55 841.89]",
        ),
        (
            format!("/w/w/journeys/{j}/blueprint.pdf"),
            "/MediaBox [0 0 1190.55 841.89]",
        ),
        (
            format!("/w/w/packages/{pkg}/diagram.pdf"),
            "/MediaBox [0 0 595.28 841.89]",
        ),
    ] {
        let r = app
            .client
            .get(app.url(&path))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let body = r.bytes().await.unwrap();
        assert!(body.starts_with(b"%PDF-"), "{path}");
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains(media_box), "{path}: page size");
        assert!(text.contains("/FontFile2"), "{path}: fonts embedded");
    }
    // Not logged in: the login page, not the drawing.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(&format!("/w/w/journeys/{j}/map.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
