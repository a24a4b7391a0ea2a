//! Feedback end to end: survey definitions, the public JSON endpoint (validation,
//! idempotency, partial saves, lifecycle, invitations, CORS, limits), the HTML page
//! (no JavaScript: a plain form post), and the staff side (filters, delete with
//! audit, CSV/XLSX export, QR codes).

use kohtaamo_domain::model::Role;
use kohtaamo_http::HttpConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

pub struct Fixture {
    pub app: TestApp,
    pub survey: i64,
    pub key: String,
    pub tps: Vec<i64>,
}

pub fn survey_body(slug: &str, tp: i64, status: &str) -> Value {
    json!({
        "slug": slug, "name": {"fi": "Ravintolavaunu", "en": "Restaurant car"}, "status": status,
        "touchpoint_id": tp,
        "questions": [
            {"key": "nps", "kind": "nps", "required": true},
            {"key": "improve", "kind": "text", "text": {"fi": "Mitä parantaisimme?", "en": "What should we improve?"},
             "show_if": {"question": "nps", "min": 0, "max": 6}},
            {"key": "csat", "kind": "csat"},
            {"key": "topics", "kind": "multi", "text": {"en": "Topics", "fi": "Aiheet"}, "options": [
                {"key": "food", "label": {"en": "Food", "fi": "Ruoka"}},
                {"key": "price", "label": {"en": "Price", "fi": "Hinta"}},
                {"key": "staff", "label": {"en": "Staff", "fi": "Henkilökunta"}}]},
            {"key": "contact", "kind": "contact"}
        ],
        "allowed_origins": ["https://shop.example.fi"]
    })
}

pub async fn fixture_with(config: HttpConfig) -> Fixture {
    let app = spawn_app_with(config).await;
    app.workspace("w").await;
    let seg = app
        .create(
            "w",
            "segments",
            json!({"slug": "commuter", "name": texts("Commuter")}),
        )
        .await;
    let j = app
        .create(
            "w",
            "journeys",
            json!({"slug": "trip", "name": texts("Trip"), "segment_id": seg}),
        )
        .await;
    let st = app
        .create(
            "w",
            "stages",
            json!({"slug": "travel", "name": texts("Travel"), "journey_id": j}),
        )
        .await;
    let mut tps = vec![];
    for s in ["restaurant-car", "ticket-inspection"] {
        tps.push(
            app.create(
                "w",
                "touchpoints",
                json!({"stage_id": st, "slug": s, "name": texts(s), "channel": "in_person",
                       "lane": "frontstage", "emotion": 0, "moment_of_truth": false}),
            )
            .await,
        );
    }
    let survey = app
        .create("w", "surveys", survey_body("car", tps[0], "active"))
        .await;
    let (_, links) = app
        .get(
            &format!("/api/v1/workspaces/w/surveys/{survey}/links"),
            &app.admin,
        )
        .await;
    let url = links["public_url"].as_str().unwrap().to_owned();
    let key = url.rsplit('/').next().unwrap().to_owned();
    Fixture {
        app,
        survey,
        key,
        tps,
    }
}

pub async fn fixture() -> Fixture {
    fixture_with(HttpConfig {
        login_per_minute_account: 1000,
        login_per_minute_ip: 1000,
        ..Default::default()
    })
    .await
}

impl Fixture {
    pub async fn answer(&self, body: Value) -> (StatusCode, Value) {
        let resp = self
            .app
            .client
            .post(
                self.app
                    .url(&format!("/api/public/v1/surveys/{}/responses", self.key)),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = resp.status();
        (s, resp.json().await.unwrap_or(Value::Null))
    }
    pub async fn count(&self) -> usize {
        self.app
            .store
            .response_keys(self.survey)
            .await
            .unwrap()
            .len()
    }
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/workspaces/w/surveys/{}{rest}", self.survey)
    }
}

#[tokio::test]
async fn survey_definitions_are_validated() {
    let f = fixture().await;
    let (s, b) = f
        .app
        .post(
            "/api/v1/workspaces/w/surveys",
            &f.app.admin,
            json!({"slug": "x", "name": {"en": "X"}, "touchpoint_id": 999999, "questions": [
                {"key": "a", "kind": "nps"}, {"key": "b", "kind": "single", "text": {"en": "B"}, "options": []}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["questions[1].options"].is_string(), "{b}");
    let before = f
        .app
        .get("/api/v1/workspaces/w/surveys", &f.app.admin)
        .await
        .1["total"]
        .clone();
    assert_eq!(before, 1, "nothing stored");
    // An unknown touchpoint is named too.
    let (s, b) = f
        .app
        .post(
            "/api/v1/workspaces/w/surveys",
            &f.app.admin,
            survey_body("y", 999999, "draft"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["touchpoint_id"].is_string(), "{b}");
    // The touchpoint cannot be deleted while a survey asks about it.
    let (s, _) = f
        .app
        .delete(
            &format!("/api/v1/workspaces/w/touchpoints/{}", f.tps[0]),
            &f.app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test]
async fn answers_are_validated_stored_once_and_closed_surveys_refuse() {
    let f = fixture().await;
    // Unknown survey.
    let resp = f
        .app
        .client
        .post(f.app.url("/api/public/v1/surveys/nosuchkey/responses"))
        .json(&json!({"answers": {"nps": 5}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Every bad field is named; nothing is stored.
    let (s, b) = f
        .answer(json!({"id": "bad!", "answers": {"nps": 11, "csat": "x", "topics": ["food", "wifi"], "nope": 1},
                       "hidden": {"locale": "finnish", "touchpoint_id": 424242}}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    for field in [
        "id",
        "answers.nps",
        "answers.csat",
        "answers.topics",
        "answers.nope",
        "hidden.locale",
        "hidden.touchpoint_id",
    ] {
        assert!(b["fields"][field].is_string(), "{field} missing: {b}");
    }
    let (s, b) = f.answer(json!({"answers": {}})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["answers.nps"]
            .as_str()
            .unwrap()
            .contains("answer"),
        "{b}"
    );
    assert_eq!(f.count().await, 0);

    // A good answer, then the same id again: one response.
    let body = json!({"id": "resp-0001-aaaa", "answers": {"nps": 3, "improve": "Coffee was cold", "topics": ["price", "food"]},
                      "hidden": {"channel": "in_person", "locale": "en", "customer_ref": "c-42", "case_ref": "K-1", "custom": {"train": "IC 27"}}});
    let (s, b) = f.answer(body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["status"], "stored");
    let (s, b) = f.answer(body).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "duplicate");
    assert_eq!(f.count().await, 1);
    let (_, page) = f.app.get(&f.path("/responses"), &f.app.admin).await;
    let r = &page["items"][0];
    assert_eq!(r["nps"], 3);
    assert_eq!(
        r["touchpoint_id"], f.tps[0],
        "the survey's touchpoint by default"
    );
    assert_eq!(r["answers"]["topics"], json!(["food", "price"]));
    assert_eq!(r["custom"]["train"], "IC 27");

    // Closing the survey: 410, and nothing more is stored.
    let mut closed = survey_body("car", f.tps[0], "closed");
    closed["slug"] = json!("car");
    let (s, b) = f
        .app
        .put(
            &format!("/api/v1/workspaces/w/surveys/{}", f.survey),
            &f.app.admin,
            closed,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = f.answer(json!({"answers": {"nps": 9}})).await;
    assert_eq!(s, StatusCode::GONE, "{b}");
    assert!(b["error"].as_str().unwrap().contains("closed"));
    assert_eq!(f.count().await, 1);
}

#[tokio::test]
async fn partial_saves_are_replaced_until_complete() {
    let f = fixture().await;
    let id = "partial-0001";
    let (s, _) = f
        .answer(json!({"id": id, "answers": {"nps": 2}, "complete": false}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = f
        .answer(json!({"id": id, "answers": {"nps": 4, "improve": "Seats"}, "complete": false}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = f
        .answer(json!({"id": id, "answers": {"nps": 5, "improve": "Seats"}}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // A late partial save cannot undo the complete answer.
    let (s, b) = f
        .answer(json!({"id": id, "answers": {"nps": 1}, "complete": false}))
        .await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("duplicate"))
    );
    let keys = f.app.store.response_keys(f.survey).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[id], "stored complete");
    let (_, page) = f.app.get(&f.path("/responses"), &f.app.admin).await;
    assert_eq!(page["items"][0]["nps"], 5);
    // Impressions and the funnel.
    for _ in 0..3 {
        let resp = f
            .app
            .client
            .post(
                f.app
                    .url(&format!("/api/public/v1/surveys/{}/impressions", f.key)),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    f.answer(json!({"id": "partial-0002", "answers": {"nps": 9}, "complete": false}))
        .await;
    let (_, funnel) = f.app.get(&f.path("/funnel"), &f.app.admin).await;
    assert_eq!(funnel, json!({"shown": 3, "started": 2, "completed": 1}));
}

#[tokio::test]
async fn personal_invitations_work_once() {
    let f = fixture().await;
    let (s, b) = f
        .app
        .post(
            &f.path("/invitations"),
            &f.app.admin,
            json!({"recipients": [{"customer_ref": "cust-1", "case_ref": "CASE-9", "touchpoint_id": f.tps[0]}, {}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let token = b["items"][0]["token"].as_str().unwrap().to_owned();
    assert!(b["items"][0]["url"]
        .as_str()
        .unwrap()
        .contains(&format!("inv={token}")));
    let (s, _) = f
        .answer(json!({"id": "invited-0001", "answers": {"nps": 10}, "invitation": token}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // A retry of the same response is fine; another response with the link is not.
    let (s, _) = f
        .answer(json!({"id": "invited-0001", "answers": {"nps": 10}, "invitation": token}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = f
        .answer(json!({"id": "invited-0002", "answers": {"nps": 0}, "invitation": token}))
        .await;
    assert_eq!(s, StatusCode::GONE, "{b}");
    let (s, b) = f
        .answer(json!({"id": "invited-0003", "answers": {"nps": 0}, "invitation": "not-a-token"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["invitation"].is_string());
    assert_eq!(f.count().await, 1);
    let (_, page) = f.app.get(&f.path("/responses"), &f.app.admin).await;
    let r = &page["items"][0];
    assert_eq!(
        (r["customer_ref"].as_str(), r["case_ref"].as_str()),
        (Some("cust-1"), Some("CASE-9"))
    );
    assert_eq!(r["touchpoint_id"], f.tps[0]);
    let (_, invs) = f.app.get(&f.path("/invitations"), &f.app.admin).await;
    assert!(
        invs[0]["used_at"].is_string() && invs[1]["used_at"].is_null(),
        "{invs}"
    );
    assert!(invs[0].get("token").is_none(), "tokens are shown once only");
}

#[tokio::test]
async fn cors_follows_the_allowed_origins() {
    let f = fixture().await;
    let url = f
        .app
        .url(&format!("/api/public/v1/surveys/{}/responses", f.key));
    let ok = f
        .app
        .client
        .post(&url)
        .header("Origin", "https://shop.example.fi")
        .header("Content-Type", "text/plain")
        .body(json!({"answers": {"nps": 8}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://shop.example.fi"
    );
    let bad = f
        .app
        .client
        .post(&url)
        .header("Origin", "https://evil.example.com")
        .json(&json!({"answers": {"nps": 8}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);
    assert!(bad.headers().get("access-control-allow-origin").is_none());
    let pre = f
        .app
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://shop.example.fi")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), StatusCode::NO_CONTENT);
    assert!(pre.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert_eq!(f.count().await, 1);
    // The definition the widget reads, in the asked language, with standard wording.
    let def: Value = f
        .app
        .client
        .get(
            f.app
                .url(&format!("/api/public/v1/surveys/{}?lang=fi", f.key)),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(def["title"], "Ravintolavaunu");
    assert!(
        def["questions"][0]["text"]
            .as_str()
            .unwrap()
            .contains("suosittelisit"),
        "{def}"
    );
    assert_eq!(def["questions"][0]["max"], 10);
}

#[tokio::test]
async fn rate_and_size_limits() {
    let mut cfg = HttpConfig {
        login_per_minute_account: 1000,
        login_per_minute_ip: 1000,
        ..Default::default()
    };
    cfg.feedback.per_minute_ip = 3;
    let f = fixture_with(cfg).await;
    for i in 0..3 {
        let (s, _) = f
            .answer(json!({"id": format!("limit-000{i}"), "answers": {"nps": 7}}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let resp = f
        .app
        .client
        .post(
            f.app
                .url(&format!("/api/public/v1/surveys/{}/responses", f.key)),
        )
        .json(&json!({"answers": {"nps": 7}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(f.count().await, 3);

    let f = fixture().await;
    let huge = "x".repeat(70 * 1024);
    let (s, _) = f
        .answer(json!({"answers": {"nps": 1, "improve": huge}}))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(f.count().await, 0);
}

#[tokio::test]
async fn staff_filter_export_and_delete_with_audit() {
    let f = fixture().await;
    let rows = [
        ("r-promoter-1", 10, "en", "Great staff"),
        ("r-passive-01", 7, "fi", "Ihan ok"),
        ("r-detract-01", 2, "fi", "=HYPERLINK(\"http://x\")"),
        ("r-detract-02", 5, "en", "Too expensive coffee"),
    ];
    for (id, nps, lang, text) in rows {
        let mut answers = json!({"nps": nps});
        let key = if nps <= 6 { "improve" } else { "topics" };
        answers[key] = if nps <= 6 {
            json!(text)
        } else {
            json!(["staff"])
        };
        let (s, b) = f
            .answer(json!({"id": id, "answers": answers, "hidden": {"locale": lang}}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let list = |q: &'static str| {
        let app = &f.app;
        let path = f.path(&format!("/responses{q}"));
        async move { app.get(&path, &app.admin).await }
    };
    assert_eq!(list("?band=detractor").await.1["total"], 2);
    assert_eq!(list("?band=promoter").await.1["total"], 1);
    assert_eq!(list("?lang=fi").await.1["total"], 2);
    assert_eq!(list("?q=COFFEE").await.1["total"], 1);
    let today = chrono::Utc::now().date_naive();
    assert_eq!(list("?from=2000-01-01&to=2000-12-31").await.1["total"], 0);
    let (_, all) = f
        .app
        .get(
            &f.path(&format!("/responses?from={today}&to={today}")),
            &f.app.admin,
        )
        .await;
    assert_eq!(all["total"], 4);
    let (s, b) = list("?band=angry&from=yesterday").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["band"].is_string() && b["fields"]["from"].is_string(),
        "{b}"
    );

    // CSV: a header, one row per response, formulas neutralised.
    let csv = f
        .app
        .client
        .get(f.app.url(&f.path("/responses.csv")))
        .bearer_auth(&f.app.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert!(header.contains(&"q_improve".to_string()) && header.contains(&"nps".to_string()));
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 4);
    // A bulk read of people's answers is in the audit trail.
    let (_, audit) = f.app.get("/api/v1/workspaces/w/audit", &f.app.admin).await;
    assert_eq!(
        (&audit[0]["action"], &audit[0]["detail"]),
        (&json!("data.export"), &json!("responses as csv")),
        "{audit}"
    );
    let improve = header.iter().position(|h| h == "q_improve").unwrap();
    assert!(
        records
            .iter()
            .any(|r| r[improve].starts_with("'=HYPERLINK")),
        "formula neutralised"
    );
    assert!(!csv.contains(",=HYPERLINK"));
    // The same download gzip-compressed (as browsers ask for it) arrives whole.
    let gz = f
        .app
        .client
        .get(f.app.url(&f.path("/responses.csv")))
        .bearer_auth(&f.app.admin)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let gz = gz.bytes().await.expect("the whole compressed body");
    let mut unzipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped)
        .unwrap();
    assert_eq!(unzipped, csv);
    let xlsx = f
        .app
        .client
        .get(f.app.url(&f.path("/responses.xlsx?band=detractor")))
        .bearer_auth(&f.app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip file");

    // Delete: viewers may not; editors may, and the audit trail says who.
    let viewer = f.app.member("vera", 1, Role::Viewer).await;
    let editor = f.app.member("eddie", 1, Role::Editor).await;
    let rid = all["items"][0]["id"].as_i64().unwrap();
    let (s, _) = f
        .app
        .delete(&f.path(&format!("/responses/{rid}")), &viewer)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = f
        .app
        .delete(&f.path(&format!("/responses/{rid}")), &editor)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = f
        .app
        .get(&f.path(&format!("/responses/{rid}")), &f.app.admin)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(f.count().await, 3);
    let (_, audit) = f.app.get("/api/v1/workspaces/w/audit", &f.app.admin).await;
    assert_eq!(audit[0]["action"], "delete_response", "{audit}");
    let eddie = f.app.store.user_by_name("eddie").await.unwrap().unwrap();
    assert_eq!(audit[0]["user_id"], eddie.id);
}

#[tokio::test]
async fn qr_codes_encode_the_touchpoint_link() {
    let f = fixture().await;
    let (_, links) = f.app.get(&f.path("/links"), &f.app.admin).await;
    let tp_url = links["touchpoints"][0]["url"].as_str().unwrap();
    assert!(
        tp_url.ends_with(&format!("/f/{}?tp={}", f.key, f.tps[0])),
        "{links}"
    );
    assert!(links["widget_snippet"]
        .as_str()
        .unwrap()
        .contains(&format!("data-survey=\"{}\"", f.key)));
    let get = |p: String| {
        let app = &f.app;
        async move {
            app.client
                .get(app.url(&p))
                .bearer_auth(&app.admin)
                .send()
                .await
                .unwrap()
        }
    };
    let svg = get(f.path(&format!("/qr.svg?touchpoint_id={}", f.tps[0]))).await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = get(f.path(&format!("/qr.png?touchpoint_id={}&scale=4", f.tps[0]))).await;
    assert_eq!(png.status(), StatusCode::OK);
    let bytes = png.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // The PNG decodes, and its modules are the QR code of the touchpoint link.
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let code = qrcode::QrCode::new(tp_url.as_bytes()).unwrap();
    let side = (code.width() as u32 + 8) * 4;
    assert_eq!((info.width, info.height), (side, side));
    let colors = code.to_colors();
    let px = |mx: u32, my: u32| buf[(((my + 4) * 4 + 1) * side + (mx + 4) * 4 + 1) as usize];
    for (i, c) in colors.iter().enumerate() {
        let (mx, my) = (
            i as u32 % code.width() as u32,
            i as u32 / code.width() as u32,
        );
        assert_eq!(
            px(mx, my) == 0,
            *c == qrcode::Color::Dark,
            "module {mx},{my}"
        );
    }
    let bad = get(f.path("/qr.png?touchpoint_id=999999")).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_html_page_works_without_javascript() {
    let mut cfg = HttpConfig {
        login_per_minute_account: 1000,
        login_per_minute_ip: 1000,
        ..Default::default()
    };
    cfg.feedback.min_fill_seconds = 0;
    let f = fixture_with(cfg).await;
    let page_url = f.app.url(&format!(
        "/f/{}?tp={}&ch=in_person&cref=abc&h_train=IC27&lang=fi",
        f.key, f.tps[0]
    ));
    let resp = f.app.client.get(&page_url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = resp.text().await.unwrap();
    assert!(html.contains("lang=\"fi\"") && html.contains("Ravintolavaunu"));
    assert!(html.len() < 30 * 1024, "page is {} bytes", html.len());
    let field = |name: &str| {
        let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    };
    let (rid, token) = (field("_rid"), field("_t"));
    let form = vec![
        ("_rid", rid.clone()),
        ("_t", token.clone()),
        ("tp", f.tps[0].to_string()),
        ("ch", "in_person".into()),
        ("cref", "abc".into()),
        ("h_train", "IC27".into()),
        ("lang", "fi".into()),
        ("website", "".into()),
        ("nps", "4".into()),
        ("improve", "Kahvi loppui".into()),
        ("topics", "food".into()),
        ("topics", "staff".into()),
    ];
    let post = |form: Vec<(&'static str, String)>| {
        let app = &f.app;
        let url = app.url(&format!("/f/{}", f.key));
        async move { app.client.post(url).form(&form).send().await.unwrap() }
    };
    // Invalid: NPS out of range → the page again, with the message by the question.
    let mut bad = form.clone();
    bad[8].1 = "12".into();
    let resp = post(bad).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Valitse luku väliltä 0–10"),
        "Finnish message"
    );
    assert!(html.contains("Kahvi loppui"), "answers kept");
    assert_eq!(f.count().await, 0);
    let resp = post(form.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("Kiitos"));
    // Pressing send twice stores one response.
    assert_eq!(post(form.clone()).await.status(), StatusCode::OK);
    assert_eq!(f.count().await, 1);
    let (_, page) = f.app.get(&f.path("/responses"), &f.app.admin).await;
    let r = &page["items"][0];
    // (The survey asks about the first touchpoint; another one in `tp` is refused since
    // issue 12, so the page names the survey's own.)
    assert_eq!(r["touchpoint_id"], f.tps[0]);
    assert_eq!(
        (
            r["channel"].as_str(),
            r["locale"].as_str(),
            r["customer_ref"].as_str()
        ),
        (Some("in_person"), Some("fi"), Some("abc"))
    );
    assert_eq!(r["answers"]["topics"], json!(["food", "staff"]));
    assert_eq!(r["custom"]["train"], "IC27");
    // A filled honeypot and a forged render time are thanked and kept apart: a
    // person's browser may fill a hidden field, so nothing is thrown away.
    let mut bot = form.clone();
    bot[0].1 = "bot-response-1".into();
    bot[7].1 = "http://spam".into();
    assert_eq!(post(bot).await.status(), StatusCode::OK);
    let mut forged = form.clone();
    forged[0].1 = "forged-resp-1".into();
    forged[1].1 = "1.deadbeef".into();
    assert_eq!(post(forged).await.status(), StatusCode::OK);
    assert_eq!(f.count().await, 3);
    let (_, apart) = f
        .app
        .get(&f.path("/responses?suspect=true"), &f.app.admin)
        .await;
    let mut why: Vec<&str> = apart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["suspect"].as_str().unwrap())
        .collect();
    why.sort();
    assert_eq!(why, ["honeypot", "no_form_token"]);
    // Shown once (the page view) in the funnel.
    let (_, funnel) = f.app.get(&f.path("/funnel"), &f.app.admin).await;
    assert_eq!(funnel["shown"], 1);
}

#[tokio::test]
async fn a_quick_answer_is_kept_apart_never_refused() {
    let f = fixture().await; // default: at least 2 seconds
    let html = f
        .app
        .client
        .get(f.app.url(&format!("/f/{}?lang=en", f.key)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = html.find("name=\"_t\" value=\"").unwrap() + 17;
    let token = &html[at..at + html[at..].find('"').unwrap()];
    // A person who taps 9 and Send at once is thanked, and the answer is stored.
    let resp = f
        .app
        .client
        .post(f.app.url(&format!("/f/{}", f.key)))
        .form(&[
            ("_rid", "quick-answer-1"),
            ("_t", token),
            ("nps", "9"),
            ("lang", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("Thank"));
    assert_eq!(f.count().await, 1);
    let app = &f.app;
    let scores = |_: &Fixture| async move {
        let (_, t) = app
            .get("/api/v1/workspaces/w/scores?by=survey", &app.admin)
            .await;
        t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["responses"].as_i64().unwrap())
            .sum::<i64>()
    };
    // Set apart: listed with its reason, not counted in any score or figure list.
    assert_eq!(scores(&f).await, 0);
    let (_, page) = f.app.get(&f.path("/responses"), &f.app.admin).await;
    assert_eq!(page["items"][0]["suspect"], "too_fast");
    let rid = page["items"][0]["id"].as_i64().unwrap();
    let (_, counted) = f
        .app
        .get(&f.path("/responses?suspect=false"), &f.app.admin)
        .await;
    assert_eq!(counted["total"], 0);
    // Deleting a suspect response takes nothing out of the rollups; accepting one
    // counts it once, however often it is pressed.
    let accept = f.path(&format!("/responses/{rid}/accept"));
    for _ in 0..2 {
        let r = f
            .app
            .client
            .post(f.app.url(&accept))
            .bearer_auth(&f.app.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(scores(&f).await, 1);
    let (_, one) = f
        .app
        .get(&f.path(&format!("/responses/{rid}")), &f.app.admin)
        .await;
    assert_eq!(one["suspect"], Value::Null);
    let (_, audit) = f.app.get("/api/v1/workspaces/w/audit", &f.app.admin).await;
    assert!(audit.to_string().contains("accept_response"), "{audit}");
    let missing = f
        .app
        .client
        .post(f.app.url(&f.path("/responses/999999/accept")))
        .bearer_auth(&f.app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // Deleting a response that was never counted leaves the scores as they are.
    let resp = f
        .app
        .client
        .post(f.app.url(&format!("/f/{}", f.key)))
        .form(&[
            ("_rid", "forged-answer-2"),
            ("_t", "1.deadbeef"),
            ("nps", "3"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, apart) = f
        .app
        .get(&f.path("/responses?suspect=true"), &f.app.admin)
        .await;
    let other = apart["items"][0]["id"].as_i64().unwrap();
    let del = f
        .app
        .client
        .delete(f.app.url(&f.path(&format!("/responses/{other}"))))
        .bearer_auth(&f.app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    assert_eq!(scores(&f).await, 1);
    // A closed survey's page says so.
    f.app
        .put(
            &format!("/api/v1/workspaces/w/surveys/{}", f.survey),
            &f.app.admin,
            survey_body("car", f.tps[0], "closed"),
        )
        .await;
    let resp = f
        .app
        .client
        .get(f.app.url(&format!("/f/{}", f.key)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::GONE);
    let resp = f
        .app
        .client
        .get(f.app.url("/f/unknown-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn scores_per_touchpoint_follow_ingest_and_deletion() {
    let f = fixture().await;
    let mut ids = Vec::new();
    for (i, nps) in [10i64; 20]
        .iter()
        .chain([8; 10].iter())
        .chain([3; 10].iter())
        .enumerate()
    {
        let (s, b) = f
            .answer(json!({"id": format!("score-{i:04}"), "answers": {"nps": nps, "csat": if i % 2 == 0 { 5 } else { 2 }}}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        ids.push(format!("score-{i:04}"));
    }
    // A partial answer does not count until it is complete.
    f.answer(json!({"id": "score-partial", "answers": {"nps": 0}, "complete": false}))
        .await;
    let (s, t) = f
        .app
        .get("/api/v1/workspaces/w/scores?by=touchpoint", &f.app.admin)
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let row = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == f.tps[0])
        .unwrap()
        .clone();
    assert_eq!(row["responses"], 40);
    assert_eq!(row["nps"]["status"], "score");
    assert!(
        (row["nps"]["value"].as_f64().unwrap() - 25.0).abs() < 1e-9,
        "{row}"
    );
    assert_eq!(row["nps"]["n"], 40);
    assert!(
        (row["csat"]["value"].as_f64().unwrap() - 50.0).abs() < 1e-9,
        "{row}"
    );
    assert_eq!(row["ces"]["status"], "no_answers");
    assert_eq!(row["previous_nps"]["status"], "no_answers");
    // Deleting a promoter keeps the rollups exact: 19 promoters and 10 detractors of 39.
    let (_, page) = f
        .app
        .get(&f.path("/responses?band=promoter&limit=1"), &f.app.admin)
        .await;
    let rid = page["items"][0]["id"].as_i64().unwrap();
    f.app
        .delete(&f.path(&format!("/responses/{rid}")), &f.app.admin)
        .await;
    let (_, t) = f
        .app
        .get("/api/v1/workspaces/w/scores?by=journey", &f.app.admin)
        .await;
    let row = &t["rows"][0];
    assert_eq!(row["nps"]["n"], 39);
    assert!(
        (row["nps"]["value"].as_f64().unwrap() - 100.0 * 9.0 / 39.0).abs() < 1e-9,
        "{row}"
    );
    // Below the minimum sample: no number.
    let (_, t) = f
        .app
        .get("/api/v1/workspaces/w/scores?by=language", &f.app.admin)
        .await;
    assert_eq!(t["rows"][0]["nps"]["status"], "score");
    let (s, b) = f
        .app
        .get(
            "/api/v1/workspaces/w/scores?by=planet&from=2026-13-01",
            &f.app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["by"].is_string() && b["fields"]["from"].is_string(),
        "{b}"
    );
    let few = fixture().await;
    few.answer(json!({"answers": {"nps": 10}})).await;
    let (_, t) = few
        .app
        .get("/api/v1/workspaces/w/scores", &few.app.admin)
        .await;
    assert_eq!(t["rows"][0]["nps"], json!({"status": "not_enough", "n": 1}));
}

#[tokio::test]
async fn themes_of_open_answers() {
    let f = fixture().await;
    for i in 0..12 {
        let text = if i % 2 == 0 {
            "Coffee was cold again"
        } else {
            "Kahvi oli kylmää"
        };
        let lang = if i % 2 == 0 { "en" } else { "fi" };
        f.answer(json!({"id": format!("theme-{i:04}"), "answers": {"nps": 2, "improve": text}, "hidden": {"locale": lang}}))
            .await;
    }
    let (s, t) = f.app.get(&f.path("/themes"), &f.app.admin).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let terms: Vec<&str> = t
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["term"].as_str().unwrap())
        .collect();
    assert!(
        terms.contains(&"coffe") && terms.contains(&"kahv") && terms.contains(&"kahv kylm"),
        "{terms:?}"
    );
    let coffee = t
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["term"] == "coffe")
        .unwrap();
    assert_eq!(
        (coffee["answers"].as_i64(), coffee["low"].as_i64()),
        (Some(6), Some(6))
    );
    assert!(
        !terms.contains(&"was") && !terms.contains(&"oli"),
        "stop words: {terms:?}"
    );
}

#[tokio::test]
async fn drivers_need_cases_with_both_answers() {
    let f = fixture().await;
    // A journey survey and the touchpoint survey answered in the same cases: the
    // touchpoint's NPS moves the journey's.
    let mut j = survey_body("trip-nps", f.tps[0], "active");
    j["touchpoint_id"] = serde_json::Value::Null;
    let (_, journeys) = f
        .app
        .get("/api/v1/workspaces/w/journeys", &f.app.admin)
        .await;
    let jid = journeys["items"][0]["id"].as_i64().unwrap();
    j["journey_id"] = json!(jid);
    j["allowed_origins"] = json!([]);
    let js = f.app.create("w", "surveys", j).await;
    let (_, links) = f
        .app
        .get(
            &format!("/api/v1/workspaces/w/surveys/{js}/links"),
            &f.app.admin,
        )
        .await;
    let jkey = links["public_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    for k in 0..40 {
        let good = k % 2 == 0;
        let case = format!("case-{k}");
        f.answer(
            json!({"answers": {"nps": if good { 10 } else { 2 }}, "hidden": {"case_ref": case}}),
        )
        .await;
        let r = f
            .app
            .client
            .post(f.app.url(&format!("/api/public/v1/surveys/{jkey}/responses")))
            .json(&json!({"answers": {"nps": if good { 9 } else { 4 }}, "hidden": {"case_ref": case}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let (s, d) = f
        .app
        .get(
            &format!("/api/v1/workspaces/w/journeys/{jid}/drivers"),
            &f.app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let row = &d[0];
    assert_eq!(row["touchpoint_id"], f.tps[0]);
    assert_eq!(row["n"], 40);
    assert!(
        row["impact"].as_f64().unwrap() > 0.99 && row["significant"] == true,
        "{row}"
    );
    assert!(
        (row["performance"].as_f64().unwrap() - 60.0).abs() < 1e-9,
        "{row}"
    );
}
