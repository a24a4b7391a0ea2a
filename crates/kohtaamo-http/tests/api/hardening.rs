//! What probing from outside found (issue 12), one test per finding, each failing
//! before its fix: redirects, far-off dates, spreadsheet injection, the figures' own
//! definitions.

use kohtaamo_http::HttpConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::feedback::fixture;
use crate::helpers::*;

/// The row of group `key` in a score table.
fn score_row(table: &Value, key: i64) -> Value {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .cloned()
        .unwrap_or_else(|| panic!("no row {key}: {table}"))
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The login page's CSRF cookie and token.
async fn login_form(app: &TestApp, client: &reqwest::Client) -> (String, String) {
    let resp = client.get(app.url("/login")).send().await.unwrap();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("kohtaamo_login_csrf="))
        .expect("login CSRF cookie");
    let html = resp.text().await.unwrap();
    let token = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    (cookie, token)
}

#[tokio::test]
async fn redirects_never_leave_the_site_nor_break_the_header() {
    let app = spawn_app().await;
    let client = no_redirects();
    for next in [
        "%2F%09%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%2Fevil.example",
        "%2F%0D%0ASet-Cookie%3A%20x%3D1",
    ] {
        let resp = client
            .get(app.url(&format!("/lang/en?next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(resp.headers()["location"], "/", "{next}");
    }
    // The same through the login form, with a CR LF in `next`: a redirect home, no 500.
    let (cookie, token) = login_form(&app, &client).await;
    let resp = client
        .post(app.url("/login"))
        .header("cookie", cookie)
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "/\r\n/evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/");
}

#[tokio::test]
async fn the_login_form_says_when_to_retry() {
    let app = spawn_app_with(HttpConfig {
        login_per_minute_account: 2,
        login_per_minute_ip: 1000,
        ..Default::default()
    })
    .await;
    let client = no_redirects();
    let mut last = None;
    for _ in 0..3 {
        let (cookie, token) = login_form(&app, &client).await;
        let resp = client
            .post(app.url("/login"))
            .header("cookie", cookie)
            .form(&[
                ("_csrf", token.as_str()),
                ("username", "admin"),
                ("password", "wrong"),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        last = Some(resp);
    }
    let resp = last.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let secs: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
}

#[tokio::test]
async fn far_off_days_are_refused_not_crashed_on() {
    let f = fixture().await;
    let (app, tok) = (&f.app, &f.app.admin);
    let journey = app.get("/api/v1/workspaces/w/journeys", tok).await.1["items"][0]["id"].clone();
    for path in [
        "/api/v1/workspaces/w/scores?from=-200000-01-01".to_owned(),
        "/api/v1/workspaces/w/scores?to=+200000-01-01".to_owned(),
        "/api/v1/workspaces/w/scores/weekly?from=-200000-01-01&grain=month".to_owned(),
        format!(
            "/api/v1/workspaces/w/responses?by=touchpoint&key={}&from=-200000-01-01",
            f.tps[0]
        ),
        f.path("/responses?to=-200000-01-01"),
        format!("/api/v1/workspaces/w/journeys/{journey}/drivers?from=-200000-01-01"),
    ] {
        let (s, body) = app.get(&path, tok).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        let fields = body["fields"].as_object().unwrap();
        assert!(
            fields.contains_key("from") || fields.contains_key("to"),
            "{path}: {body}"
        );
    }
    // The widest period there is still answers.
    let (s, body) = app
        .get(
            "/api/v1/workspaces/w/scores?from=1000-01-01&to=9999-12-31",
            tok,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // A relation reviewed on a far-off day is refused by the model's validation.
    let unit = app.create("w", "units", unit("it")).await;
    let seg: Value = app.get("/api/v1/workspaces/w/segments", tok).await.1;
    let (s, body) = app
        .post(
            "/api/v1/workspaces/w/relations",
            tok,
            json!({"provider": {"unit": unit}, "customer": {"segment": seg["items"][0]["id"]},
                   "review_interval_days": 90, "last_reviewed_on": "+200000-01-01"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["fields"]["last_reviewed_on"].is_string(), "{body}");
}

#[tokio::test]
async fn spreadsheets_get_quoted_texts_and_bare_numbers() {
    let f = fixture().await;
    for n in 0..30 {
        let (s, _) = f
            .answer(
                json!({"id": format!("semi-{n:03}"), "answers": {"nps": 2, "improve": "ok;=1+1"}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
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
    // Excel in Finnish splits at ';' outside quotes: the answer must be quoted.
    assert!(csv.contains("\"ok;=1+1\""), "{csv}");
    assert!(!csv.contains(",ok;=1+1"), "{csv}");
    // The dashboard's CSV: NPS −100 is the number -100, not the text '-100.
    let admin = f.app.store.user_by_name("admin").await.unwrap().unwrap();
    let (session, _) = f
        .app
        .store
        .create_session(admin.id, chrono::Duration::hours(1))
        .await
        .unwrap();
    let csv = f
        .app
        .client
        .get(f.app.url("/w/w/dashboard.csv?by=touchpoint"))
        .header("cookie", format!("kohtaamo_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = csv
        .lines()
        .find(|l| l.contains("restaurant-car"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(row.contains(",-100,"), "{row}");
    assert!(!row.contains("'-100"), "{row}");
}

#[tokio::test]
async fn the_responses_behind_a_figure_are_the_complete_ones() {
    let f = fixture().await;
    for (id, complete) in [
        ("whole-0001", true),
        ("whole-0002", true),
        ("half-00001", false),
    ] {
        let (s, _) = f
            .answer(json!({"id": id, "answers": {"nps": 9}, "complete": complete}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let tp = f.tps[0];
    let (_, scores) = f
        .app
        .get("/api/v1/workspaces/w/scores?by=touchpoint", &f.app.admin)
        .await;
    let n = score_row(&scores, tp)["responses"].as_i64().unwrap();
    assert_eq!(n, 2);
    let base = format!("/api/v1/workspaces/w/responses?by=touchpoint&key={tp}");
    let total = |v: Value| v["total"].as_i64().unwrap();
    let all = total(f.app.get(&base, &f.app.admin).await.1);
    let partial = total(
        f.app
            .get(&format!("{base}&complete=false"), &f.app.admin)
            .await
            .1,
    );
    assert_eq!(all, n, "the default keeps the promise: total = n");
    assert_eq!(partial, 1, "partial ones on request");
}

#[tokio::test]
async fn a_survey_says_its_public_key() {
    let f = fixture().await;
    let (s, one) = f.app.get(&f.path(""), &f.app.admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one["public_key"], f.key, "{one}");
    let (_, list) = f
        .app
        .get("/api/v1/workspaces/w/surveys", &f.app.admin)
        .await;
    assert_eq!(list["items"][0]["public_key"], f.key);
    // Clients cannot set it.
    let mut body = one.clone();
    body.as_object_mut()
        .unwrap()
        .retain(|k, _| !["id", "public_key"].contains(&k.as_str()));
    body["public_key"] = json!("mine");
    let (s, _) = f.app.put(&f.path(""), &f.app.admin, body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an unknown field");
}

#[tokio::test]
async fn public_answers_are_what_the_survey_asks() {
    let f = fixture().await;
    let cases = [
        (json!({"answers": {"nps": "7"}}), "answers.nps"),
        (
            json!({"answers": {"nps": 7}, "hidden": {"touchpoint_id": f.tps[1]}}),
            "hidden.touchpoint_id",
        ),
    ];
    for (body, field) in cases {
        let (s, b) = f.answer(body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {b}");
        assert!(b["fields"][field].is_string(), "{body}: {b}");
    }
    assert_eq!(f.count().await, 0, "nothing stored");
    // A survey whose questions are all optional: a complete response still needs one
    // answer (before, `{"answers": {}}` was stored as a complete response).
    let mut optional = crate::feedback::survey_body("optional", f.tps[1], "active");
    optional["questions"][0]["required"] = json!(false);
    let id = f.app.create("w", "surveys", optional).await;
    let key = f.app.survey_key("w", id).await;
    let resp = f
        .app
        .client
        .post(
            f.app
                .url(&format!("/api/public/v1/surveys/{key}/responses")),
        )
        .json(&json!({"answers": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let b: Value = resp.json().await.unwrap();
    assert!(b["fields"]["answers"].is_string(), "{b}");
    // The survey's own touchpoint, or none (then it is the survey's), is fine.
    let (s, _) = f
        .answer(json!({"answers": {"nps": 7}, "hidden": {"touchpoint_id": f.tps[0]}}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = f.answer(json!({"answers": {"nps": 8}})).await;
    assert_eq!(s, StatusCode::CREATED);
    // Two responses, one showing: no response rate rather than 200 %.
    let impression = f
        .app
        .url(&format!("/api/public/v1/surveys/{}/impressions", f.key));
    let shown = |times: usize| {
        let url = impression.clone();
        let client = f.app.client.clone();
        async move {
            for _ in 0..times {
                let r = client.post(&url).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::NO_CONTENT);
            }
        }
    };
    shown(1).await;
    let (_, t) = f.app.get("/api/v1/workspaces/w/scores", &f.app.admin).await;
    let r = score_row(&t, f.tps[0]);
    assert_eq!(
        (r["shown"].as_i64(), r["responses"].as_i64()),
        (Some(1), Some(2))
    );
    assert!(r["response_rate"].is_null(), "{r}");
    shown(3).await;
    let (_, t) = f.app.get("/api/v1/workspaces/w/scores", &f.app.admin).await;
    let r = score_row(&t, f.tps[0]);
    assert_eq!(r["response_rate"].as_f64(), Some(50.0), "{r}");
}

#[tokio::test]
async fn showings_are_counted_under_the_rate_limit() {
    let mut cfg = HttpConfig {
        login_per_minute_account: 1000,
        login_per_minute_ip: 1000,
        ..Default::default()
    };
    cfg.feedback.per_minute_ip = 5;
    let f = crate::feedback::fixture_with(cfg).await;
    let page = f.app.url(&format!("/f/{}", f.key));
    for _ in 0..20 {
        let r = f.app.client.get(&page).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "the page is still shown");
    }
    for _ in 0..5 {
        let r = f.app.client.head(&page).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let (_, funnel) = f.app.get(&f.path("/funnel"), &f.app.admin).await;
    assert_eq!(funnel["shown"], 5, "{funnel}");
}

#[tokio::test]
async fn an_editor_cannot_change_workspace_settings_through_the_model() {
    let app = spawn_app().await;
    let ws = app.workspace("w").await;
    let editor = app
        .member("eddie", ws, kohtaamo_domain::model::Role::Editor)
        .await;
    let put = |token: String, yaml: String| {
        let (client, url) = (app.client.clone(), app.url("/api/v1/workspaces/w/model"));
        async move {
            let r = client
                .put(url)
                .bearer_auth(token)
                .header("content-type", "application/yaml")
                .body(yaml)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or_default())
        }
    };
    let (_, shown) = app.get("/api/v1/workspaces/w", &app.admin).await;
    let model = app
        .client
        .get(app.url("/api/v1/workspaces/w/model"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let name_line = model
        .lines()
        .find(|l| l.trim_start().starts_with("en:"))
        .unwrap()
        .to_owned();
    let renamed = model.replacen(&name_line, "    en: Taken over", 1);
    assert_ne!(renamed, model);
    // The editor may import the model as exported (and add to it) …
    let with_unit = format!("{model}units:\n- slug: new-unit\n  name:\n    en: New unit\n");
    let (s, b) = put(editor.clone(), with_unit).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // … but not rename the workspace, which PUT /workspaces/w refuses them too.
    let (s, b) = put(editor.clone(), renamed.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (_, after) = app.get("/api/v1/workspaces/w", &app.admin).await;
    assert_eq!(after["name"], shown["name"], "unchanged");
    // An admin may.
    let (s, b) = put(app.admin.clone(), renamed).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, after) = app.get("/api/v1/workspaces/w", &app.admin).await;
    assert_eq!(after["name"]["en"], "Taken over", "{after}");
}

#[tokio::test]
async fn oversized_bodies_get_a_json_413_and_a_closed_connection() {
    let f = fixture().await;
    let url = f
        .app
        .url(&format!("/api/public/v1/surveys/{}/responses", f.key));
    // Over the installation's body limit (256 KB) and over the public one (64 KB).
    for size in [300 * 1024, 100 * 1024] {
        let resp = f
            .app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(format!(
                "{{\"answers\": {{\"improve\": \"{}\"}}}}",
                "x".repeat(size)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "{size}");
        assert_eq!(resp.headers()["connection"], "close", "{size}");
        let body: Value = resp.json().await.expect("a JSON error");
        assert!(body["error"].is_string(), "{body}");
    }
    // A refusal of a small body too (unknown survey): the client is told to reconnect;
    // the next request on a fresh connection works.
    let resp = f
        .app
        .client
        .post(f.app.url("/api/public/v1/surveys/nope/responses"))
        .json(&json!({"answers": {"nps": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.headers()["connection"], "close");
    let (s, _) = f.answer(json!({"answers": {"nps": 9}})).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn webhooks_cannot_reach_the_installations_own_network() {
    let app = spawn_app().await;
    app.workspace("w").await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.2:22/",
        "http://localhost:5432/",
        "http://[::1]:6379/",
        "http://10.0.0.1/",
        "http://0.0.0.0/",
    ] {
        let (s, b) = app
            .post(
                "/api/v1/workspaces/w/webhooks",
                &app.admin,
                json!({"url": url, "secret": "a-long-enough-secret"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {b}");
        assert!(b["fields"]["url"].is_string(), "{url}: {b}");
    }
    let (_, list) = app.get("/api/v1/workspaces/w/webhooks", &app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing stored");
    // The host the installation allows (here the tests' own receivers) is accepted.
    let (sink, _) = webhook_sink().await;
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &app.admin,
            json!({"url": sink, "secret": "a-long-enough-secret"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

#[tokio::test]
async fn respondent_links_never_follow_a_foreign_host_header() {
    let f = fixture().await;
    let get = |path: String, host: String| {
        let req = f
            .app
            .client
            .get(f.app.url(&path))
            .bearer_auth(&f.app.admin)
            .header("host", host);
        async move { req.send().await.unwrap() }
    };
    // Over loopback without a configured address (a local demo), the request's host.
    let (_, links) = f.app.get(&f.path("/links"), &f.app.admin).await;
    let local = links["public_url"].as_str().unwrap().to_owned();
    assert!(local.starts_with("http://127.0.0.1:"), "{links}");
    assert_eq!(links["public_url_configured"], true);
    // A foreign Host: a stand-in address, said to be one; never evil.example.
    let r = get(f.path("/links"), "evil.example".into()).await;
    let links: Value = r.json().await.unwrap();
    let text = links.to_string();
    assert!(!text.contains("evil.example"), "{text}");
    assert_eq!(
        links["public_url"],
        format!("http://localhost/f/{}", f.key),
        "{links}"
    );
    assert_eq!(links["public_url_configured"], false);
    // A 3,000-byte Host: the QR codes still render (before: 500).
    let long = format!("{}.example", "a".repeat(3000));
    for qr in ["/qr.svg", "/qr.png"] {
        let r = get(f.path(qr), long.clone()).await;
        assert_eq!(r.status(), StatusCode::OK, "{qr}");
    }
    // A configured address wins whatever the Host says.
    let g = crate::feedback::fixture_with(HttpConfig {
        public_url: Some("https://palaute.example.fi".into()),
        ..Default::default()
    })
    .await;
    let r = g
        .app
        .client
        .get(g.app.url(&g.path("/links")))
        .bearer_auth(&g.app.admin)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    let links: Value = r.json().await.unwrap();
    assert!(
        links["public_url"]
            .as_str()
            .unwrap()
            .starts_with("https://palaute.example.fi/f/"),
        "{links}"
    );
    assert_eq!(links["public_url_configured"], true);
}

#[tokio::test]
async fn codes_and_invitations_name_only_the_surveys_own_touchpoints() {
    let f = fixture().await;
    // The survey is asked at tps[0]; tps[1] exists in the workspace but is not its.
    let (s, b) = f
        .app
        .get(
            &f.path(&format!("/qr.svg?touchpoint_id={}", f.tps[1])),
            &f.app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["touchpoint_id"].is_string(), "{b}");
    let (s, b) = f
        .app
        .post(
            &f.path("/invitations"),
            &f.app.admin,
            json!({"recipients": [{"touchpoint_id": f.tps[0]}, {"touchpoint_id": f.tps[1]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["fields"]["recipients[1].touchpoint_id"].is_string(),
        "{b}"
    );
    let (_, list) = f.app.get(&f.path("/invitations"), &f.app.admin).await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(0),
        "nothing issued: {list}"
    );
}

/// A client that sends `head` and then one byte per `every`, until told to stop.
async fn trickle(
    addr: &str,
    head: String,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<&'static str> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::spawn(async move {
        if s.write_all(head.as_bytes()).await.is_err() {
            return "closed";
        }
        let mut buf = [0u8; 4096];
        loop {
            tokio::select! {
                r = s.read(&mut buf) => {
                    return match r {
                        Ok(0) | Err(_) => "closed",
                        Ok(n) if String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408") => "408",
                        Ok(_) => "answered",
                    };
                }
                _ = tokio::time::sleep(every) => {
                    if s.write_all(b"x").await.is_err() {
                        return "closed";
                    }
                }
            }
        }
    })
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    use std::time::{Duration, Instant};
    let (app, _server) = spawn_app_serving(
        HttpConfig {
            request_timeout: Duration::from_secs(2),
            ..Default::default()
        },
        kohtaamo_http::ServeLimits {
            header_read_timeout: Duration::from_secs(1),
            max_connections: 64,
            shutdown_grace: Duration::from_secs(2),
        },
        std::future::pending(),
    )
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let every = Duration::from_millis(300);
    // Headers a byte at a time: disconnected after the header timeout.
    let t0 = Instant::now();
    let headers = trickle(&addr, "GET /healthz HTTP/1.1\r\nX-Slow: ".into(), every).await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), headers)
            .await
            .expect("cut off")
            .unwrap(),
        "closed"
    );
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    // A body a byte at a time: 408 after the request timeout, and the connection closes.
    let t0 = Instant::now();
    let body = trickle(
        &addr,
        format!("POST /api/v1/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{", app.admin),
        every,
    )
    .await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(6), body)
            .await
            .expect("cut off")
            .unwrap(),
        "408"
    );
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn a_slow_client_cannot_hold_a_shutdown() {
    use std::time::{Duration, Instant};
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // Timeouts far longer than the test: only the shutdown grace can end it.
    let (app, server) = spawn_app_serving(
        HttpConfig {
            request_timeout: Duration::from_secs(120),
            ..Default::default()
        },
        kohtaamo_http::ServeLimits {
            header_read_timeout: Duration::from_secs(120),
            max_connections: 64,
            shutdown_grace: Duration::from_secs(2),
        },
        async move {
            let _ = stop_rx.await;
        },
    )
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let every = Duration::from_millis(300);
    let held = trickle(
        &addr,
        format!("POST /api/v1/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", app.admin),
        every,
    )
    .await;
    let slow_headers = trickle(&addr, "GET /healthz HTTP/1.1\r\nX-Slow: ".into(), every).await;
    let (s, _) = app.get("/api/v1/workspaces", &app.admin).await;
    assert_eq!(s, StatusCode::OK, "the server is serving");
    // Before: still running 60 s after the signal.
    let t0 = Instant::now();
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(6), server)
        .await
        .expect("the server stopped")
        .unwrap()
        .unwrap();
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(4),
        "stopped after {took:?}: the busy request had its grace, no more"
    );
    assert!(!held.is_finished() || held.await.unwrap() == "closed");
    drop(slow_headers);
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_their_turn() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (app, _server) = spawn_app_serving(
        HttpConfig::default(),
        kohtaamo_http::ServeLimits {
            header_read_timeout: Duration::from_secs(30),
            max_connections: 2,
            shutdown_grace: Duration::from_secs(1),
        },
        std::future::pending(),
    )
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // Two idle connections take both slots…
    let a = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let b = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // …so a third is not served until one of them closes.
    let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let waited = tokio::time::timeout(Duration::from_millis(700), c.read(&mut buf)).await;
    assert!(waited.is_err(), "served beyond the limit");
    drop(a);
    let n = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf))
        .await
        .expect("served once a slot freed")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    drop(b);
}
