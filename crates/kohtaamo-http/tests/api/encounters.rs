//! The encounter log over HTTP: recording (one, a batch, NDJSON), idempotency, every bad
//! row reported with nothing stored, filters and pages, the customer timeline with the
//! customer's feedback, linking and unlinking, captures and their themes, pseudonyms.

use kohtaamo_domain::model::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

struct Model {
    ops: i64,
    sales: i64,
    buy: i64,
    refund: i64,
}

async fn model(app: &TestApp) -> Model {
    app.workspace("w").await;
    let ops = app.create("w", "units", unit("ops")).await;
    let sales = app.create("w", "units", unit("sales")).await;
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
    let tp = |slug: &str, owner: i64, channel: &str| {
        json!({"stage_id": stage, "slug": slug, "name": texts(slug), "channel": channel,
               "owner": {"unit": owner}, "lane": "frontstage", "emotion": 0, "moment_of_truth": false})
    };
    let buy = app
        .create("w", "touchpoints", tp("buy-ticket", sales, "web"))
        .await;
    let refund = app
        .create("w", "touchpoints", tp("refund", ops, "phone"))
        .await;
    Model {
        ops,
        sales,
        buy,
        refund,
    }
}

fn enc(id: &str, at: &str, touchpoint: &str, customer: &str) -> Value {
    json!({"id": id, "at": at, "touchpoint": touchpoint, "kind": "contact", "customer": customer, "case_ref": "TRIP-7"})
}

const ENC: &str = "/api/v1/workspaces/w/encounters";

#[tokio::test]
async fn encounters_are_recorded_once_and_found_by_every_filter() {
    let app = spawn_app().await;
    let m = model(&app).await;
    // One encounter: the owner and channel come from the touchpoint.
    let (s, b) = app
        .post(
            ENC,
            &app.admin,
            enc("pos-1", "2026-03-01T09:00:00+02:00", "buy-ticket", "crm:1"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        (b["created"].as_i64(), b["existing"].as_i64()),
        (Some(1), Some(0))
    );
    let id = b["items"][0]["id"].as_i64().unwrap();
    let (_, e) = app.get(&format!("{ENC}/{id}"), &app.admin).await;
    assert_eq!(e["at"], "2026-03-01T07:00:00Z");
    assert_eq!(e["touchpoint_id"], m.buy);
    assert_eq!(e["channel"], "web");
    assert_eq!(e["owner"], json!({"unit": m.sales}));
    assert_eq!(e["owner_name"], json!({"en": "sales"}));
    assert_eq!(e["source"], "api");
    assert_eq!(e["recorded_by"], "user:admin");
    // A retry stores nothing new.
    let (s, b) = app
        .post(
            ENC,
            &app.admin,
            enc("pos-1", "2026-03-01T09:00:00+02:00", "buy-ticket", "crm:1"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (b["created"].as_i64(), b["items"][0]["id"].as_i64()),
        (Some(0), Some(id))
    );
    // A batch as a JSON array, without a touchpoint (channel and owner given).
    let batch = json!([
        enc("pos-2", "2026-03-02T10:00:00Z", "refund", "crm:1"),
        {"id": "call-9", "at": "2026-03-03T10:00:00Z", "channel": "phone", "owner": {"unit": m.ops},
         "kind": "complaint", "customer": "crm:2", "text": "Laukku myöhässä"},
    ]);
    let (s, b) = app.post(ENC, &app.admin, batch).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // NDJSON for large loads.
    let nd = format!(
        "{}\n{}\n",
        enc("nd-1", "2026-03-04T10:00:00Z", "refund", "crm:3"),
        enc("nd-2", "2026-03-05T10:00:00Z", "buy-ticket", "crm:3")
    );
    let r = app
        .client
        .post(app.url(ENC))
        .bearer_auth(&app.admin)
        .header("content-type", "application/x-ndjson")
        .body(nd)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Filters.
    let count = |q: &str| {
        let app = &app;
        let q = q.to_owned();
        async move {
            let (s, b) = app.get(&format!("{ENC}?{q}"), &app.admin).await;
            assert_eq!(s, StatusCode::OK, "{q}: {b}");
            b["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("").await, 5);
    assert_eq!(count(&format!("touchpoint_id={}", m.refund)).await, 2);
    assert_eq!(count(&format!("unit_id={}", m.ops)).await, 3);
    assert_eq!(count("customer=crm:1").await, 2);
    assert_eq!(count("customer=crm:404").await, 0);
    assert_eq!(count("case_ref=TRIP-7").await, 4);
    assert_eq!(count("kind=complaint").await, 1);
    assert_eq!(count("source=api").await, 5);
    assert_eq!(count("from=2026-03-02&to=2026-03-04").await, 3);
    // Pages, newest first.
    let (_, p1) = app.get(&format!("{ENC}?limit=2"), &app.admin).await;
    let ids: Vec<&str> = p1["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["nd-2", "nd-1"]);
    let next = p1["next"].as_str().unwrap();
    let (_, p2) = app
        .get(
            &format!("{ENC}?limit=2&before={}", urlencode(next)),
            &app.admin,
        )
        .await;
    assert_eq!(p2["items"][0]["client_id"], "call-9");
    // Bad filters are named.
    let (s, b) = app
        .get(
            &format!("{ENC}?from=yesterday&source=fax&limit=0"),
            &app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["from", "source", "limit"] {
        assert!(b["fields"][f].is_string(), "{f}: {b}");
    }
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('~', "%7E")
}

#[tokio::test]
async fn a_batch_with_bad_rows_stores_nothing_and_names_every_problem() {
    let app = spawn_app().await;
    model(&app).await;
    let batch = json!([
        enc("ok-1", "2026-03-01T09:00:00Z", "buy-ticket", "crm:1"),
        enc("bad-1", "2099-01-01T00:00:00Z", "no-such-touchpoint", "email:nobody"),
        {"id": "bad 2", "at": "2026-03-01", "kind": "teleport"},
        enc("ok-1", "2026-03-01T09:00:00Z", "buy-ticket", "crm:1"),
        {"id": "x", "unknown_field": 1},
    ]);
    let (s, b) = app.post(ENC, &app.admin, batch).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(
        b["fields"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["[4]"],
        "a row that is not an encounter at all first: {b}"
    );
    let batch = json!([
        enc("ok-1", "2026-03-01T09:00:00Z", "buy-ticket", "crm:1"),
        enc("bad-1", "2099-01-01T00:00:00Z", "no-such-touchpoint", "email:nobody"),
        {"id": "bad 2", "at": "2026-03-01", "kind": "teleport"},
        enc("ok-1", "2026-03-01T09:00:00Z", "buy-ticket", "crm:1"),
    ]);
    let (s, b) = app.post(ENC, &app.admin, batch).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let fields: Vec<&String> = b["fields"].as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        [
            "[1].at",
            "[1].customer",
            "[1].touchpoint",
            "[2].at",
            "[2].channel",
            "[2].id",
            "[2].kind",
            "[2].owner",
            "[3].id"
        ],
        "{b}"
    );
    let (_, list) = app.get(ENC, &app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing stored");
    // A single bad encounter names plain fields; an unknown kind is refused.
    let (s, b) = app
        .post(ENC, &app.admin, json!({"id": "k", "at": "2026-03-01T09:00:00Z", "touchpoint": "refund", "kind": "teleport"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["kind"].as_str().unwrap().contains("teleport"),
        "{b}"
    );
    // Until the workspace adds it as its own kind.
    let (s, _) = app
        .post(
            "/api/v1/workspaces/w/encounter-kinds",
            &app.admin,
            json!({"slug": "teleport", "name": {"en": "Teleport", "fi": "Kaukosiirto"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app
        .post(ENC, &app.admin, json!({"id": "k", "at": "2026-03-01T09:00:00Z", "touchpoint": "refund", "kind": "teleport"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Viewers read but do not record; wrong content types are refused.
    let ws = app.store.workspace_by_slug("w").await.unwrap().unwrap().id;
    let viewer = app.member("vera", ws, Role::Viewer).await;
    let (s, _) = app
        .post(
            ENC,
            &viewer,
            enc("v-1", "2026-03-01T09:00:00Z", "refund", "crm:1"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(app.url(ENC))
        .bearer_auth(&app.admin)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn the_timeline_gathers_encounters_feedback_and_linked_customers() {
    let app = spawn_app().await;
    let m = model(&app).await;
    app.post(
        ENC,
        &app.admin,
        json!([
            enc("a", "2026-03-01T09:00:00Z", "buy-ticket", "crm:1"),
            enc("b", "2026-03-03T09:00:00Z", "refund", "loyalty:77"),
            enc(
                "c",
                "2026-03-04T09:00:00Z",
                "refund",
                "email:Maija@Example.fi"
            ),
        ]),
    )
    .await;
    // Feedback that names the customer joins the timeline without a copy.
    let s = app
        .create(
            "w",
            "surveys",
            json!({"slug": "s", "name": texts("S"), "status": "active", "touchpoint_id": m.refund,
            "questions": [{"key": "q", "kind": "nps", "required": true}]}),
        )
        .await;
    let key = app.survey_key("w", s).await;
    let r = app
        .client
        .post(app.url(&format!("/api/public/v1/surveys/{key}/responses")))
        .json(&json!({"id": "resp-0001", "answers": {"q": 3}, "hidden": {"customer_ref": "crm:1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let tl = |who: &str| {
        let app = &app;
        let who = who.to_owned();
        async move {
            app.get(
                &format!("/api/v1/workspaces/w/customers/{who}/timeline"),
                &app.admin,
            )
            .await
        }
    };
    let (s, t) = tl("crm:1").await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let types: Vec<&str> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["encounter", "response"]);
    assert_eq!(t["items"][1]["answers"]["q"], 3);
    // Link crm:1 with loyalty:77: one timeline; the preview says what joins.
    let (_, p) = app
        .get(
            "/api/v1/workspaces/w/customer-links/preview?a=crm:1&b=loyalty:77",
            &app.admin,
        )
        .await;
    assert_eq!(
        (
            p["already_linked"].as_bool(),
            p["only_shared_email"].as_bool()
        ),
        (Some(false), Some(false)),
        "{p}"
    );
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/customer-links",
            &app.admin,
            json!({"a": "crm:1", "b": "loyalty:77", "reason": ""}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["reason"].is_string());
    let (s, link) = app
        .post(
            "/api/v1/workspaces/w/customer-links",
            &app.admin,
            json!({"a": "crm:1", "b": "loyalty:77", "reason": "Same card at the desk"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    assert_eq!(link["linked_by"], "user:admin");
    let (_, t) = tl("loyalty:77").await;
    assert_eq!(t["items"].as_array().unwrap().len(), 3, "{t}");
    assert_eq!(t["customers"].as_array().unwrap().len(), 2);
    // The e-mail customer: found by the address in any case, never stored as it is.
    let (s, t) = tl("email:maija@example.FI").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        t["identifiers"][0],
        json!({"customer_id": t["customer_id"], "kind": "email", "value": null})
    );
    let ws = app.store.workspace_by_slug("w").await.unwrap().unwrap().id;
    let raw: Vec<String> = app
        .store
        .customer_identifiers(ws, &[t["customer_id"].as_i64().unwrap()])
        .await
        .unwrap()
        .into_iter()
        .map(|(_, ident, _)| ident)
        .collect();
    assert!(
        raw.iter().all(|i| !i.to_lowercase().contains("maija")),
        "{raw:?}"
    );
    assert!(raw.iter().any(|i| i.starts_with("email:#")));
    // Unlinking restores both.
    let (s, u) = app
        .post(
            &format!("/api/v1/workspaces/w/customer-links/{}/unlink", link["id"]),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert!(u["unlinked_at"].is_string());
    let (_, t) = tl("crm:1").await;
    assert_eq!(t["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        t["links"].as_array().unwrap().len(),
        1,
        "the record of the link stays"
    );
    let (s, _) = tl("crm:404").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = tl("email:nobody").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn any_member_captures_and_editors_keep_the_theme_list() {
    let app = spawn_app().await;
    let m = model(&app).await;
    let ws = app.store.workspace_by_slug("w").await.unwrap().unwrap().id;
    let viewer = app.member("ville", ws, Role::Viewer).await;
    let cap = json!({"id": "cap-1", "touchpoint_id": m.refund, "text": "Rahojen palautus kestää liian kauan",
                     "words": "quote", "theme": "odotus", "feeling": -2, "customer": "crm:1",
                     "needs_follow_up": true, "promise": "Soitamme perjantaina", "promise_due": "2026-03-06"});
    let (s, b) = app
        .post("/api/v1/workspaces/w/captures", &viewer, cap.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, _) = app
        .post("/api/v1/workspaces/w/captures", &viewer, cap)
        .await;
    assert_eq!(s, StatusCode::OK, "a retried form stores nothing twice");
    let (_, caps) = app.get("/api/v1/workspaces/w/captures", &viewer).await;
    let c = &caps["items"][0];
    assert_eq!(
        (
            c["source"].as_str(),
            c["kind"].as_str(),
            c["recorded_by"].as_str()
        ),
        (Some("staff"), Some("capture"), Some("user:ville"))
    );
    assert_eq!(c["capture"]["promise_due"], "2026-03-06");
    assert_eq!(c["owner"], json!({"unit": m.ops}));
    // The unknown theme was proposed by the viewer; an editor merges it into one on the list.
    let (_, t) = app
        .get("/api/v1/workspaces/w/capture-themes", &viewer)
        .await;
    assert_eq!(t["items"][0]["status"], "proposed");
    assert_eq!(t["items"][0]["proposed_by"], "user:ville");
    let proposed = t["items"][0]["id"].as_i64().unwrap();
    let (s, _) = app
        .post(
            &format!("/api/v1/workspaces/w/capture-themes/{proposed}/accept"),
            &viewer,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/capture-themes",
            &app.admin,
            json!({"slug": "waiting", "name": {"en": "Waiting", "fi": "Odottaminen"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let waiting = b["id"].as_i64().unwrap();
    let (s, b) = app
        .post(
            &format!("/api/v1/workspaces/w/capture-themes/{proposed}/merge"),
            &app.admin,
            json!({"into": waiting}),
        )
        .await;
    assert_eq!((s, b["moved"].as_i64()), (StatusCode::OK, Some(1)));
    let (_, caps) = app.get("/api/v1/workspaces/w/captures", &viewer).await;
    assert_eq!(caps["items"][0]["capture"]["theme_id"], waiting);
    // A bad capture names its fields and stores nothing.
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/captures",
            &viewer,
            json!({"id": "cap-2", "text": " ", "words": "quote", "feeling": 5}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let mut f: Vec<&String> = b["fields"].as_object().unwrap().keys().collect();
    f.sort();
    assert_eq!(f, ["channel", "feeling", "owner", "text"], "{b}");
}

#[tokio::test]
async fn history_keeps_the_names_it_was_recorded_with() {
    let app = spawn_app().await;
    let m = model(&app).await;
    app.post(
        ENC,
        &app.admin,
        enc("h-1", "2026-03-01T09:00:00Z", "refund", "crm:1"),
    )
    .await;
    let (s, _) = app
        .put(
            &format!("/api/v1/workspaces/w/units/{}", m.ops),
            &app.admin,
            json!({"slug": "ops", "name": {"en": "Customer care"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, l) = app.get(ENC, &app.admin).await;
    assert_eq!(l["items"][0]["owner_name"], json!({"en": "ops"}));
    assert_eq!(l["items"][0]["touchpoint_name"], json!({"en": "refund"}));
}

#[tokio::test]
async fn webhooks_that_opt_in_hear_of_each_batch_and_the_others_do_not() {
    let app = spawn_app().await;
    model(&app).await;
    let (opted, got) = webhook_sink().await;
    let (plain, plain_got) = webhook_sink().await;
    let (s, _) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &app.admin,
            json!({"url": opted, "secret": "a-long-enough-secret", "events": ["encounters"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &app.admin,
            json!({"url": plain, "secret": "another-long-secret"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, body) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &app.admin,
            json!({"url": plain, "secret": "another-long-secret", "events": ["everything"]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, hooks) = app.get("/api/v1/workspaces/w/webhooks", &app.admin).await;
    assert_eq!(hooks["items"][0]["events"], json!(["encounters"]));
    let batch = json!([
        enc("h-1", "2026-03-01T10:00:00Z", "buy-ticket", "crm:h"),
        enc("h-2", "2026-03-01T11:00:00Z", "refund", "crm:h"),
    ]);
    let (s, out) = app.post(ENC, &app.admin, batch.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    // A retry creates nothing, so it announces nothing.
    app.post(ENC, &app.admin, batch).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while got.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "one event per batch: {got:?}");
    let (sig, body) = &got[0];
    assert_eq!(
        *sig,
        kohtaamo_app::jobs::sign("a-long-enough-secret", body.as_bytes())
    );
    let ev: Value = serde_json::from_str(body).unwrap();
    assert_eq!(ev["event"], "encounters.recorded");
    assert_eq!(ev["workspace"], "w");
    let ids: Vec<Value> = out["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ev["ids"], json!(ids));
    assert!(
        !body.contains("crm:h"),
        "no customer identifiers in the event"
    );
    assert!(plain_got.lock().unwrap().is_empty(), "not opted in");
}

/// An import announces what it stored like a batch posted to the API: one
/// `encounters.recorded` event per stored transaction (source `import`) to the
/// webhooks that opted in, naming every new encounter; importing the same file again
/// stores nothing and announces nothing.
#[tokio::test]
async fn an_import_announces_its_encounters_to_opted_in_webhooks() {
    use kohtaamo_app::encounter_import as imp;
    let app = spawn_app().await;
    model(&app).await;
    let (url, got) = webhook_sink().await;
    let (s, _) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &app.admin,
            json!({"url": url, "secret": "a-long-enough-secret", "events": ["encounters"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let ws = app.store.workspace_by_slug("w").await.unwrap().unwrap().id;
    let csv = "id,at,touchpoint,customer\ni-1,2026-03-01 09:00,buy-ticket,crm:i\ni-2,2026-03-01 10:00,refund,crm:i\ni-3,2026-03-02 10:00,refund,crm:j\n";
    let map = imp::Mapping::parse(&["id=id,at=at,touchpoint=touchpoint,customer=customer".into()])
        .unwrap();
    let ctx = jobs_on(
        &app.store,
        chrono::NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
    );
    let by = kohtaamo_app::encounters::Recorder("test".into());
    let import = || {
        imp::import_csv(
            &app.store,
            ws,
            || Ok(std::io::Cursor::new(csv)),
            &map,
            false,
            &by,
            chrono::Utc::now(),
            Some(imp::Events {
                ctx: &ctx,
                slug: "w",
            }),
        )
    };
    let report = import().await.unwrap();
    assert_eq!((report.stored, report.existing), (3, 0));
    // The import returns once its events are delivered: no waiting here.
    let events = got.lock().unwrap().clone();
    assert_eq!(
        events.len(),
        1,
        "one event per stored transaction: {events:?}"
    );
    let ev: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(ev["event"], "encounters.recorded");
    assert_eq!(ev["source"], "import");
    let (_, listed) = app.get(&format!("{ENC}?source=import"), &app.admin).await;
    let mut ids: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    let mut announced: Vec<i64> = ev["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    announced.sort_unstable();
    assert_eq!(announced, ids);
    assert_eq!(ids.len(), 3);
    let again = import().await.unwrap();
    assert_eq!((again.stored, again.existing), (0, 3));
    assert_eq!(
        got.lock().unwrap().len(),
        1,
        "nothing new, nothing announced"
    );
}
