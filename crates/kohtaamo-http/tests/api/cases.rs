//! Cases end to end: a journey's customer-facing steps, cases created and moved by a
//! back-office system (idempotent, with the time each change happened), each change in
//! the customer's timeline, and the customer's status page behind a capability link
//! that can be revoked.

use kohtaamo_domain::model::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const CASES: &str = "/api/v1/workspaces/w/cases";

/// A workspace with a journey and the unit that handles its cases.
async fn journey(app: &TestApp) -> (i64, i64) {
    app.workspace("w").await;
    let seg = app
        .create(
            "w",
            "segments",
            json!({"slug": "flyer", "name": texts("Flyer")}),
        )
        .await;
    let j = app
        .create(
            "w",
            "journeys",
            json!({"slug": "delayed-bag", "name": texts("Delayed bag"), "segment_id": seg}),
        )
        .await;
    let unit = app.create("w", "units", unit("baggage")).await;
    (j, unit)
}

fn steps() -> Value {
    json!({"steps": [
        {"key": "received", "name": {"fi": "Ilmoitus vastaanotettu", "en": "Report received"},
         "meaning": {"en": "We have your report."}, "next": {"en": "We start tracing your bag."},
         "expected_days": 1, "statuses": ["new", "triage"]},
        {"key": "tracing", "name": {"fi": "Etsimme laukkuasi", "en": "We are looking for your bag"},
         "next": {"en": "We send it to you when found."}, "expected_days": 5, "statuses": ["tracing", "found"]},
        {"key": "delivered", "name": {"fi": "Toimitettu", "en": "Delivered"}, "statuses": ["delivered"]}
    ]})
}

#[tokio::test]
async fn steps_cases_and_changes_are_validated_and_idempotent() {
    let app = spawn_app().await;
    let (j, unit) = journey(&app).await;
    let steps_url = format!("/api/v1/workspaces/w/journeys/{j}/case-steps");
    // A case before the journey has steps: refused, with the reason.
    let case = json!({"id": "bag-1001", "journey_id": j, "status": "new", "customer": "crm:77",
                      "unit_id": unit, "language": "en", "title": "Bag HEL–OUL",
                      "at": "2026-03-02T08:00:00Z"});
    let (s, b) = app.post(CASES, &app.admin, case.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["journey_id"]
            .as_str()
            .unwrap()
            .contains("no customer-facing steps"),
        "{b}"
    );
    // Bad steps: every field named, nothing stored.
    let (s, b) = app
        .put(
            &steps_url,
            &app.admin,
            json!({"steps": [
            {"key": "Bad Key", "name": {}, "expected_days": 0, "statuses": ["a", "a"]},
            {"key": "ok", "name": {"en": "Ok"}, "statuses": []}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for f in [
        "steps[0].key",
        "steps[0].name",
        "steps[0].expected_days",
        "steps[0].statuses",
        "steps[1].statuses",
    ] {
        assert!(b["fields"][f].is_string(), "{f}: {b}");
    }
    assert_eq!(app.get(&steps_url, &app.admin).await.1["items"], json!([]));
    let ws = app.store.workspace_by_slug("w").await.unwrap().unwrap().id;
    let viewer = app.member("vera", ws, Role::Viewer).await;
    assert_eq!(
        app.put(&steps_url, &viewer, steps()).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, b) = app.put(&steps_url, &app.admin, steps()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.get(
            "/api/v1/workspaces/w/journeys/999999/case-steps",
            &app.admin
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // Bad cases: every field named.
    let (s, b) = app
        .post(CASES, &app.admin, json!({"id": "", "journey_id": j, "status": "lost", "customer": "email:nope",
                                        "unit_id": 999999, "language": "de", "ask_due": "2026-13-01"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["id", "customer", "language", "ask_due"] {
        assert!(b["fields"][f].is_string(), "{f}: {b}");
    }
    let (s, b) = app
        .post(
            CASES,
            &app.admin,
            json!({"id": "x", "journey_id": j, "status": "lost", "unit_id": 999999}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["status"]
            .as_str()
            .unwrap()
            .contains("new, triage"),
        "{b}"
    );
    assert!(b["fields"]["unit_id"].is_string(), "{b}");
    assert_eq!(
        app.get(CASES, &app.admin).await.1["items"],
        json!([]),
        "nothing stored"
    );
    // Created once; a retry returns the same case.
    let (s, created) = app.post(CASES, &app.admin, case.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let reference = created["reference"].as_str().unwrap().to_owned();
    assert_eq!(reference.len(), 8);
    assert!(
        reference
            .bytes()
            .all(|b| b"ACEFHJKMNPRTUVWXY3479".contains(&b)),
        "{reference}"
    );
    let (s, again) = app.post(CASES, &app.admin, case.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["id"], created["id"]);
    assert_eq!(again["reference"], created["reference"]);
    assert_eq!(
        app.post(CASES, &viewer, case).await.0,
        StatusCode::FORBIDDEN
    );
    let id = created["id"].as_i64().unwrap();
    let (hook_url, got) = webhook_sink().await;
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &app.admin,
            json!({"url": hook_url, "secret": "a-long-enough-secret", "events": ["cases"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let status = |body: Value| {
        let app = &app;
        async move {
            app.post(&format!("{CASES}/{id}/status"), &app.admin, body)
                .await
        }
    };
    let (s, b) = status(json!({"status": "lost"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let change = json!({"status": "tracing", "at": "2026-03-03T09:00:00Z", "note": "We asked the other airports."});
    let (s, b) = status(change.clone()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["changed"], true);
    assert_eq!(b["case"]["status"], "tracing");
    assert_eq!(
        status(change).await.1["changed"],
        false,
        "a retry changes nothing"
    );
    // Told once, signed, with the step the customer now sees and no customer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while got.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let events = got.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].0,
        kohtaamo_app::jobs::sign("a-long-enough-secret", events[0].1.as_bytes())
    );
    let ev: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(
        (
            ev["event"].as_str(),
            ev["status"].as_str(),
            ev["step"].as_str(),
            ev["case"].as_str()
        ),
        (
            Some("case.status_changed"),
            Some("tracing"),
            Some("tracing"),
            Some("bag-1001")
        )
    );
    assert!(!events[0].1.contains("crm:77"), "no customer identifier");
    // A late change older than the current status joins the history only.
    let (_, b) = status(json!({"status": "triage", "at": "2026-03-02T10:00:00Z"})).await;
    assert_eq!(b["changed"], true);
    assert_eq!(b["case"]["status"], "tracing");
    let (_, detail) = app.get(&format!("{CASES}/{id}"), &app.admin).await;
    assert_eq!(detail["changes"].as_array().unwrap().len(), 3);
    assert_eq!(detail["progress"]["current"], 1);
    assert_eq!(detail["progress"]["expected_by"], "2026-03-08T09:00:00Z");
    assert_eq!(detail["progress"]["history"].as_array().unwrap().len(), 2);
    // Reading a case is in the audit trail, under a keyed hash (never the reference).
    let (_, audit) = app.get("/api/v1/workspaces/w/audit", &app.admin).await;
    assert_eq!(
        (&audit[0]["action"], &audit[0]["detail"]),
        (&json!("record.read"), &json!("case")),
        "{audit}"
    );
    assert!(!audit.to_string().contains("bag-1001"), "{audit}");
    // Each change is an encounter in the customer's timeline.
    let (s, t) = app
        .get("/api/v1/workspaces/w/customers/crm:77/timeline", &app.admin)
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let steps_seen: Vec<&str> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "case-step")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(steps_seen, ["new", "triage", "tracing"], "{t}");
    // Listed by customer, journey and status.
    let (_, l) = app
        .get(
            &format!("{CASES}?customer=crm:77&status=tracing"),
            &app.admin,
        )
        .await;
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
    let (_, l) = app
        .get(&format!("{CASES}?customer=crm:78"), &app.admin)
        .await;
    assert_eq!(l["items"], json!([]));
    assert_eq!(
        app.get(&format!("{CASES}?limit=0"), &app.admin).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn the_customer_follows_the_case_on_a_status_page_until_the_link_is_revoked() {
    let app = spawn_app().await;
    let (j, unit) = journey(&app).await;
    app.put(
        &format!("/api/v1/workspaces/w/journeys/{j}/case-steps"),
        &app.admin,
        steps(),
    )
    .await;
    let (_, c) = app
        .post(CASES, &app.admin, json!({"id": "bag-7", "journey_id": j, "status": "new", "unit_id": unit,
            "language": "fi", "title": "<script>alert(1)</script>", "ask": "Kuitti matkatavaroista", "ask_due": "2026-03-12"}))
        .await;
    let id = c["id"].as_i64().unwrap();
    let (s, link) = app
        .post(
            &format!("{CASES}/{id}/links"),
            &app.admin,
            json!({"days": 30}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    let path = link["path"].as_str().unwrap().to_owned();
    assert!(link["url"].as_str().unwrap().ends_with(&path));
    let token = path.trim_start_matches("/s/");
    assert!(token.len() * 4 >= 128, "at least 128 bits");
    let (_, detail) = app.get(&format!("{CASES}/{id}"), &app.admin).await;
    assert!(
        !detail.to_string().contains(token),
        "the token is never stored or shown again"
    );
    assert_eq!(
        app.post(
            &format!("{CASES}/{id}/links"),
            &app.admin,
            json!({"days": 0})
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let page = |p: String| {
        let app = &app;
        async move {
            let r = app.client.get(app.url(&p)).send().await.unwrap();
            let status = r.status();
            let headers = r.headers().clone();
            (status, headers, r.text().await.unwrap())
        }
    };
    let (s, h, html) = page(path.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(h["x-robots-tag"].to_str().unwrap().contains("noindex"));
    assert!(html.len() < 15_000, "{} bytes", html.len());
    assert!(
        html.contains("<html lang=\"fi\""),
        "the customer's language"
    );
    let shown = format!(
        "{}-{}",
        &c["reference"].as_str().unwrap()[..4],
        &c["reference"].as_str().unwrap()[4..]
    );
    assert!(html.contains(&shown), "{html}");
    assert!(
        html.contains("Nyt tässä:</span> <strong>Ilmoitus vastaanotettu"),
        "the current step in words: {html}"
    );
    assert!(
        html.contains("Kuitti matkatavaroista") && html.contains("12.3.2026"),
        "what is asked, by when: {html}"
    );
    assert!(!html.contains("<script>alert"), "escaped");
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("<script"),
        "nothing from elsewhere, no script"
    );
    let (_, _, en) = page(format!("{path}?lang=en")).await;
    assert!(
        en.contains("Now here:</span> <strong>Report received"),
        "{en}"
    );
    // The customer replies: stored once per form, as written, for the unit, shown
    // escaped; an empty reply is refused with the reason on the page.
    let reply = |text: &str, form: &str| {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let url = app.url(&format!("{path}/reply"));
        let body =
            serde_urlencoded::to_string([("text", text), ("form", form), ("lang", "en")]).unwrap();
        async move {
            let r = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, page_after) = reply("   ", "f1").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page_after.contains("role=\"alert\""), "{page_after}");
    let words = "Laukussa oli <b>lääkkeitä</b> — tarvitsen ne tänään!";
    assert_eq!(reply(words, "f2").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        reply(words, "f2").await.0,
        StatusCode::SEE_OTHER,
        "the same form again"
    );
    let (_, found) = app
        .get(
            "/api/v1/workspaces/w/encounters?case_ref=bag-7&kind=note",
            &app.admin,
        )
        .await;
    let notes = found["items"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "stored once: {found}");
    assert_eq!(notes[0]["text"], words, "as written");
    assert_eq!(
        notes[0]["owner"]["unit"], unit,
        "for the unit handling the case"
    );
    let (_, _, sent) = page(format!("{path}?sent=1&lang=en")).await;
    assert!(sent.contains("your message has been passed on"), "{sent}");
    assert!(reply("x", "f3").await.0 == StatusCode::SEE_OTHER);
    assert_eq!(
        reply("x", "bad form id!").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Viewing changed nothing.
    let (_, after) = app.get(&format!("{CASES}/{id}"), &app.admin).await;
    assert_eq!(after["updated_at"], c["updated_at"]);
    // A survey about the journey: a done case's page asks its customer to answer it,
    // the answer carrying the case's id.
    let survey = app
        .create(
            "w",
            "surveys",
            json!({"slug": "claim", "name": texts("Claim"), "status": "active",
            "journey_id": j, "questions": [{"key": "csat", "kind": "csat", "required": true}]}),
        )
        .await;
    let key = app.survey_key("w", survey).await;
    assert!(!html.contains(&key), "not before the case is done");
    // Moved on: the page follows; done at the last step.
    for st in ["tracing", "delivered"] {
        let (s, b) = app
            .post(
                &format!("{CASES}/{id}/status"),
                &app.admin,
                json!({"status": st}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (_, _, done) = page(format!("{path}?lang=en")).await;
    assert!(done.contains("Your case is done"), "{done}");
    assert!(
        done.contains(&format!("href=\"/f/{key}?case=bag-7&#38;lang=en\"")),
        "{done}"
    );
    assert!(
        !done.contains("What we need from you"),
        "nothing asked when done"
    );
    // Revoked: the same answer as a token that never existed.
    let (s, b) = app
        .post(&format!("{CASES}/{id}/links/revoke"), &app.admin, json!({}))
        .await;
    assert_eq!((s, b["revoked"].clone()), (StatusCode::OK, json!(1)));
    let (s1, _, gone) = page(path.clone()).await;
    let (s2, _, never) = page(format!("/s/{}", "ab".repeat(18))).await;
    let (s3, _, junk) = page("/s/not-a-token".into()).await;
    assert_eq!(
        (s1, s2, s3),
        (
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND
        )
    );
    assert_eq!(gone, never);
    assert_eq!(gone, junk);
    // A new link works again.
    let (_, link) = app
        .post(&format!("{CASES}/{id}/links"), &app.admin, json!({}))
        .await;
    assert_eq!(
        page(link["path"].as_str().unwrap().to_owned()).await.0,
        StatusCode::OK
    );
}

/// A customer without their link finds the case by its reference and the second
/// factor; a wrong factor and an unknown reference get the same answer; the tries on
/// one reference are limited.
#[tokio::test]
async fn a_case_is_found_by_reference_and_second_factor_only() {
    let app = spawn_app().await;
    let (j, _) = journey(&app).await;
    app.put(
        &format!("/api/v1/workspaces/w/journeys/{j}/case-steps"),
        &app.admin,
        steps(),
    )
    .await;
    let (s, c) = app
        .post(
            CASES,
            &app.admin,
            json!({"id": "bag-9", "journey_id": j, "status": "new", "verifier": "00100"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c["has_verifier"], true);
    assert!(
        c.get("verifier_hash").is_none() && !c.to_string().contains("00100"),
        "never shown: {c}"
    );
    let reference = c["reference"].as_str().unwrap().to_lowercase();
    let typed = format!("{}-{}", &reference[..4], &reference[4..]);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let find = |r: &str, v: &str| {
        let (client, url) = (client.clone(), app.url("/s"));
        let body = format!("org=w&lang=en&reference={}&verifier={}", r, v);
        async move {
            let resp = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let (s, h) = (resp.status(), resp.headers().clone());
            (s, h, resp.text().await.unwrap())
        }
    };
    let (s, _, form) = {
        let r = app
            .client
            .get(app.url("/s?org=w&lang=fi"))
            .send()
            .await
            .unwrap();
        (r.status(), (), r.text().await.unwrap())
    };
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("name=\"verifier\""), "{form}");
    let (s1, _, wrong) = find(&typed, "00200").await;
    let (s2, _, unknown) = find("AAAA-3333", "00100").await;
    assert_eq!(
        (s1, s2),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY
        )
    );
    assert_eq!(
        wrong.replace(&typed, "X"),
        unknown.replace("AAAA-3333", "X"),
        "one answer for both"
    );
    // Case, spaces and dashes do not matter.
    let (s, h, _) = find(&typed, "001-00%20").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let to = h["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/s/"), "{to}");
    let page = app.client.get(app.url(&to)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // The fifth try on one reference within minutes is the last.
    for _ in 0..3 {
        assert_eq!(
            find(&typed, "99999").await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let (s, h, _) = find(&typed, "00100").await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "even with the right factor"
    );
    assert!(h.contains_key("retry-after"));
}

/// Case analytics through the API, against figures computed by hand; the status page
/// opens counted; the look-up label per workspace; steps that would strand cases
/// refused; e-mail asked for with e-mail off refused.
#[tokio::test]
async fn analytics_settings_and_what_is_refused() {
    let app = spawn_app().await;
    let (j, unit) = journey(&app).await;
    let steps_url = format!("/api/v1/workspaces/w/journeys/{j}/case-steps");
    app.put(&steps_url, &app.admin, steps()).await;
    let mk = |id: &str, at: &str| json!({"id": id, "journey_id": j, "status": "new", "unit_id": unit, "at": at});
    let (_, a) = app
        .post(CASES, &app.admin, mk("a", "2026-03-01T00:00:00Z"))
        .await;
    let (_, b) = app
        .post(CASES, &app.admin, mk("b", "2026-03-01T00:00:00Z"))
        .await;
    let (a, b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    let mv = |id: i64, status: &str, at: &str| {
        let app = &app;
        let body = json!({"status": status, "at": at});
        async move {
            let (s, r) = app
                .post(&format!("{CASES}/{id}/status"), &app.admin, body)
                .await;
            assert_eq!(s, StatusCode::OK, "{r}");
        }
    };
    // a: 2 days received (over its 1), 2 days tracing (within 5), delivered.
    mv(a, "tracing", "2026-03-03T00:00:00Z").await;
    mv(a, "delivered", "2026-03-05T00:00:00Z").await;
    // b: half a day received, then tracing since March: overdue.
    mv(b, "tracing", "2026-03-01T12:00:00Z").await;
    // b's customer looked twice the day before the change and three times after it.
    let ws = app.store.workspace_by_slug("w").await.unwrap().unwrap().id;
    app.store
        .add_case_opens(&[
            (ws, b, "2026-02-28T20".into(), 2),
            (ws, b, "2026-03-02T09".into(), 3),
        ])
        .await
        .unwrap();
    let (s, r) = app
        .get(
            &format!("/api/v1/workspaces/w/journeys/{j}/case-analytics?days=3660"),
            &app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let f = &r["figures"];
    assert_eq!(
        (f["cases"].as_i64(), f["done"].as_i64()),
        (Some(2), Some(1)),
        "{r}"
    );
    let received = &f["steps"][0];
    assert_eq!(received["entered"], 2);
    assert_eq!(received["ended"], 2);
    assert_eq!(received["median_days"], 1.25, "(0.5 + 2) / 2");
    assert_eq!(received["p90_days"], 2.0);
    assert_eq!(received["over_expected"], 1);
    let tracing = &f["steps"][1];
    assert_eq!(
        (&tracing["open_now"], &tracing["overdue_now"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(tracing["overdue_by_unit"], json!([[unit, 1]]));
    assert_eq!(tracing["changes_seen"], 2);
    assert_eq!(tracing["opens_before"], 1.0, "2 opens over 2 changes");
    assert_eq!(tracing["opens_after"], 1.5, "3 opens over 2 changes");
    assert_eq!(
        f["steps"][2]["open_now"], 0,
        "the last step is done, not open"
    );
    assert_eq!(r["weakest_wait"], Value::Null);
    assert_eq!(
        app.get(
            &format!("/api/v1/workspaces/w/journeys/{j}/case-analytics?days=0"),
            &app.admin
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Opening the status page is counted (written before analytics are read).
    let (_, link) = app
        .post(&format!("{CASES}/{a}/links"), &app.admin, json!({}))
        .await;
    for _ in 0..2 {
        let r = app
            .client
            .get(app.url(link["path"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    app.get(
        &format!("/api/v1/workspaces/w/journeys/{j}/case-analytics?days=3660"),
        &app.admin,
    )
    .await;
    let opens: i64 = app
        .store
        .case_opens(ws, j)
        .await
        .unwrap()
        .iter()
        .filter(|(c, _, _)| *c == a)
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(opens, 2);
    // Steps that drop a status a case stands in: refused, nothing stored.
    let (s, e) = app
        .put(
            &steps_url,
            &app.admin,
            json!({"steps": [
                {"key": "received", "name": {"en": "Received"}, "statuses": ["new"]},
                {"key": "delivered", "name": {"en": "Delivered"}, "statuses": ["delivered"]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["fields"]["steps.tracing"]
            .as_str()
            .is_some_and(|m| m.contains("1 case")),
        "{e}"
    );
    assert_eq!(
        app.get(&steps_url, &app.admin).await.1["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The look-up label: set, shown on the form, bad language refused, cleared.
    let settings = "/api/v1/workspaces/w/case-settings";
    let (s, set) = app
        .put(
            settings,
            &app.admin,
            json!({"verifier_label": {"fi": "Postinumero", "en": "Postcode"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{set}");
    let form = app
        .client
        .get(app.url("/s?org=w&lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains(">Postcode</label>"), "{form}");
    let (s, e) = app
        .put(
            settings,
            &app.admin,
            json!({"verifier_label": {"de": "Postleitzahl"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        app.get(settings, &app.admin).await.1["verifier_label"]["en"],
        "Postcode"
    );
    app.put(settings, &app.admin, json!({"verifier_label": {}}))
        .await;
    assert_eq!(
        app.get(settings, &app.admin).await.1["verifier_label"],
        json!({})
    );
    // E-mail for a customer with e-mail off: a clear error, nothing stored.
    let (s, e) = app
        .post(
            &format!("{CASES}/{a}/subscriptions"),
            &app.admin,
            json!({"email": "maija@example.fi"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["fields"]["email"]
            .as_str()
            .unwrap()
            .contains("not set up"),
        "{e}"
    );
    let (s, e) = app
        .post(CASES, &app.admin, json!({"id": "c", "journey_id": j, "status": "new", "notify_email": "maija@example.fi"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        app.get(&format!("{CASES}?limit=10"), &app.admin).await.1["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // An unsubscribe link that is not one: the same public "nothing here" page.
    for path in ["/s/u/abc/x", "/s/u/1/00000000000000000000000000000000"] {
        for post in [false, true] {
            let r = if post {
                app.client.post(app.url(path)).send().await.unwrap()
            } else {
                app.client.get(app.url(path)).send().await.unwrap()
            };
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(
                r.text().await.unwrap().contains("<html"),
                "a page, not JSON"
            );
        }
    }
}
