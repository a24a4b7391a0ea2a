//! Follow-ups end to end: a rule opens one per matching response, in the response's
//! own transaction (a retry or a later save opens none again), for the unit owning the
//! touchpoint; a capture marked "needs follow-up" opens one; the status machine,
//! closing with a root cause, reopening, permissions, *my follow-ups*, and the rules'
//! validation.

use kohtaamo_domain::model::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::feedback::fixture;
use crate::helpers::*;

const FU: &str = "/api/v1/workspaces/w/follow-ups";

/// The fixture's first touchpoint owned by a new unit `desk`; returns the unit's id.
async fn owned(f: &crate::feedback::Fixture) -> i64 {
    let unit = f.app.create("w", "units", unit("desk")).await;
    let (_, tp) = f
        .app
        .get(
            &format!("/api/v1/workspaces/w/touchpoints/{}", f.tps[0]),
            &f.app.admin,
        )
        .await;
    let mut body = tp.clone();
    for k in ["id", "position"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["owner"] = json!({"unit": unit});
    let (s, b) = f
        .app
        .put(
            &format!("/api/v1/workspaces/w/touchpoints/{}", f.tps[0]),
            &f.app.admin,
            body,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    unit
}

#[tokio::test]
async fn a_rule_opens_one_follow_up_per_matching_response_for_the_owning_unit() {
    let f = fixture().await;
    let desk = owned(&f).await;
    // Bad rules are refused with every field's reason.
    let (s, b) = f
        .app
        .post(
            "/api/v1/workspaces/w/follow-up-rules",
            &f.app.admin,
            json!({"name": "", "trigger": "nps", "threshold": 12, "scope": "touchpoint", "contact_hours": 48, "resolve_hours": 24}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["name", "threshold", "scope_id", "resolve_hours"] {
        assert!(b["fields"][field].is_string(), "{field}: {b}");
    }
    let rule = f
        .app
        .create(
            "w",
            "follow-up-rules",
            json!({"name": "Detractors in the restaurant car", "trigger": "nps", "threshold": 6,
                   "scope": "touchpoint", "scope_id": f.tps[0], "contact_hours": 4, "resolve_hours": 48}),
        )
        .await;
    // Words, in another form, open one too (a second rule: a second follow-up).
    f.app
        .create(
            "w",
            "follow-up-rules",
            json!({"name": "Refunds", "trigger": "words", "terms": ["refund"]}),
        )
        .await;
    let answer = |id: &str, nps: i64, improve: &str| {
        json!({"id": id, "answers": {"nps": nps, "improve": improve}, "complete": true,
               "hidden": {"customer_ref": "crm:77", "locale": "en"}})
    };
    let (s, _) = f
        .answer(answer("resp-low-1", 2, "my refunds take weeks"))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // A retry opens nothing again.
    let (s, _) = f
        .answer(answer("resp-low-1", 2, "my refunds take weeks"))
        .await;
    assert!(s.is_success());
    // A happy answer opens nothing.
    f.answer(answer("resp-high-1", 9, "")).await;
    let (s, list) = f.app.get(FU, &f.app.admin).await;
    assert_eq!(s, StatusCode::OK);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    let by_rule: Vec<&Value> = items.iter().filter(|i| i["rule_id"] == rule).collect();
    assert_eq!(by_rule.len(), 1);
    let one = by_rule[0];
    assert_eq!(one["reason"], "NPS 2 ≤ 6");
    assert_eq!(one["unit_id"], desk);
    assert_eq!(one["touchpoint_id"], f.tps[0]);
    assert_eq!(one["customer"], "crm:77");
    assert_eq!(one["status"], "new");
    assert_eq!(one["response_key"], "resp-low-1");
    // The clocks: 4 and 48 hours from the response.
    let created =
        chrono::DateTime::parse_from_rfc3339(one["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(one["contact_due"].as_str().unwrap()).unwrap();
    assert_eq!((due - created).num_hours(), 4);
    let words: Vec<&Value> = items.iter().filter(|i| i["rule_id"] != rule).collect();
    assert_eq!(words[0]["reason"], "“refund”");
    // An inactive rule opens nothing; a response outside the scope opens nothing.
    let (_, r) = f
        .app
        .get(
            &format!("/api/v1/workspaces/w/follow-up-rules/{rule}"),
            &f.app.admin,
        )
        .await;
    assert_eq!(r["active"], true);
    let (s, _) = f
        .app
        .post(
            FU.replace("follow-ups", "follow-up-rules").as_str(),
            &f.app.admin,
            json!({"name": "x", "trigger": "capture", "threshold": 3}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a capture rule has no threshold"
    );
}

#[tokio::test]
async fn the_status_machine_root_causes_and_who_may_act() {
    let f = fixture().await;
    let desk = owned(&f).await;
    f.app
        .create(
            "w",
            "follow-up-rules",
            json!({"name": "Detractors", "trigger": "nps", "threshold": 6}),
        )
        .await;
    // The customer allows being contacted (and a bad contact detail is refused).
    let (s, b) = f
        .answer(json!({"id": "resp-low-1", "answers": {"nps": 1, "contact": "call me"}, "complete": true}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["answers.contact"].is_string(), "{b}");
    f.answer(json!({"id": "resp-low-2", "answers": {"nps": 1, "contact": "liisa@example.fi"}, "complete": true}))
        .await;
    let (_, list) = f.app.get(FU, &f.app.admin).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let act = |body: Value, token: String| {
        let app = &f.app;
        async move { app.post(&format!("{FU}/{id}/actions"), &token, body).await }
    };
    let ws = f
        .app
        .store
        .workspace_by_slug("w")
        .await
        .unwrap()
        .unwrap()
        .id;
    // A viewer outside the unit may not act; a viewer working in the unit may.
    let outsider = f.app.member("outsider", ws, Role::Viewer).await;
    let (s, _) = act(json!({"action": "contact"}), outsider).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let head = f.app.member("unit-head", ws, Role::Viewer).await;
    let head_id = f
        .app
        .store
        .user_by_name("unit-head")
        .await
        .unwrap()
        .unwrap()
        .id;
    f.app
        .store
        .add_unit_member(ws, desk, head_id, false)
        .await
        .unwrap();
    // *My follow-ups*: the unit's unassigned one.
    let (_, mine) = f.app.get(&format!("{FU}?mine=true"), &head).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let (s, b) = act(
        json!({"action": "assign", "assignee_id": 999_999}),
        head.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, b) = act(
        json!({"action": "assign", "assignee_id": head_id}),
        head.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["assignee_id"], head_id);
    // A step the status does not allow changes nothing.
    let (s, b) = act(json!({"action": "reopen"}), head.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["action"].as_str().unwrap().contains("new"),
        "{b}"
    );
    let (s, b) = act(json!({"action": "contact"}), head.clone()).await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("contacted"))
    );
    assert!(b["contacted_at"].is_string());
    // Waiting for the customer stops the clocks until resumed; escalating is the
    // clock job's, not a person's.
    let (s, b) = act(
        json!({"action": "wait", "note": "Asked for the receipt"}),
        head.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b["waiting_since"].is_string(), "{b}");
    let (s, _) = act(json!({"action": "wait"}), head.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "waiting twice");
    let (s, b) = act(json!({"action": "resume"}), head.clone()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b["waiting_since"].is_null() && b["paused_seconds"].as_i64().unwrap() >= 0);
    let (s, _) = act(json!({"action": "escalate"}), head.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Closing needs a root cause from the list and the action taken.
    let (s, b) = act(
        json!({"action": "close", "root_cause": "weather"}),
        head.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["root_cause"].is_string() && b["fields"]["action_taken"].is_string());
    let (_, still) = f.app.get(&format!("{FU}/{id}"), &head).await;
    assert_eq!(still["status"], "contacted");
    let (_, causes) = f.app.get("/api/v1/workspaces/w/root-causes", &head).await;
    assert!(causes["items"]
        .as_array()
        .unwrap()
        .contains(&json!("information")));
    let (s, b) = act(
        json!({"action": "close", "root_cause": "information", "action_taken": "Refund paid; told the ticket office"}),
        head.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["root_cause"].as_str()),
        (Some("closed"), Some("information"))
    );
    let (s, b) = act(json!({"action": "note", "note": "  "}), head.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    act(
        json!({"action": "note", "note": "Customer thanked us"}),
        head.clone(),
    )
    .await;
    // Reopened: back to contacted (the customer was contacted), closing data cleared.
    let (s, b) = act(json!({"action": "reopen"}), head.clone()).await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("contacted"))
    );
    assert!(b["closed_at"].is_null());
    let (_, detail) = f.app.get(&format!("{FU}/{id}"), &head).await;
    let steps: Vec<&str> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["assign", "contact", "wait", "resume", "close", "note", "reopen"]
    );
    assert_eq!(detail["events"][2]["detail"], "Asked for the receipt");
    assert_eq!(detail["events"][5]["detail"], "Customer thanked us");
    assert_eq!(detail["events"][0]["by"], "user:unit-head");
    // Reading it is in the audit trail, under a keyed hash.
    let (_, audit) = f.app.get("/api/v1/workspaces/w/audit", &f.app.admin).await;
    assert_eq!(
        (&audit[0]["action"], &audit[0]["detail"]),
        (&json!("record.read"), &json!("follow-up")),
        "{audit}"
    );
    assert!(audit[0]["object"]
        .as_str()
        .unwrap()
        .starts_with("subject #"));
    // Filters.
    let (_, open) = f
        .app
        .get(&format!("{FU}?open=true&unit_id={desk}"), &f.app.admin)
        .await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let (s, _) = f.app.get(&format!("{FU}?status=lost"), &f.app.admin).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = f.app.get(&format!("{FU}/999999"), &f.app.admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_capture_marked_needs_follow_up_opens_one_once() {
    let f = fixture().await;
    let desk = owned(&f).await;
    let capture = json!({"id": "cap-1", "touchpoint_id": f.tps[0], "words": "quote",
        "text": "The card reader was broken again", "feeling": -2, "customer": "crm:5",
        "needs_follow_up": true});
    let (s, b) = f
        .app
        .post(
            "/api/v1/workspaces/w/captures",
            &f.app.admin,
            capture.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, _) = f
        .app
        .post("/api/v1/workspaces/w/captures", &f.app.admin, capture)
        .await;
    assert_eq!(s, StatusCode::OK);
    // Not marked: nothing (no rule covers captures here).
    f.app
        .post(
            "/api/v1/workspaces/w/captures",
            &f.app.admin,
            json!({"id": "cap-2", "touchpoint_id": f.tps[0], "words": "quote", "text": "Nice", "feeling": 2}),
        )
        .await;
    let (_, list) = f.app.get(FU, &f.app.admin).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["source"], "capture");
    assert_eq!(items[0]["unit_id"], desk);
    assert_eq!(items[0]["customer"], "crm:5");
    assert_eq!(items[0]["reason"], "needs follow-up");
    // The customer's timeline holds the follow-up and each step taken on it.
    let id = items[0]["id"].as_i64().unwrap();
    let (s, b) = f
        .app
        .post(
            &format!("{FU}/{id}/actions"),
            &f.app.admin,
            json!({"action": "contact"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, t) = f
        .app
        .get(
            "/api/v1/workspaces/w/customers/crm:5/timeline",
            &f.app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let kinds: Vec<&str> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"encounter"), "{kinds:?}");
    let opened = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "follow_up")
        .expect("the follow-up in the timeline");
    assert_eq!(
        (opened["id"].as_i64(), opened["status"].as_str()),
        (Some(id), Some("contacted"))
    );
    let step = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "follow_up_step")
        .expect("the step in the timeline");
    assert_eq!(
        (step["follow_up_id"].as_i64(), step["action"].as_str()),
        (Some(id), Some("contact"))
    );
    assert_eq!(step["unit_id"], desk);
}

/// Webhooks that opted in to `follow-ups` hear each step, signed, without the
/// customer's identifier; the others hear nothing.
#[tokio::test]
async fn opted_in_webhooks_hear_each_step() {
    let f = fixture().await;
    owned(&f).await;
    let (url, got) = webhook_sink().await;
    let (plain, plain_got) = webhook_sink().await;
    for (u, events) in [(&url, json!(["follow-ups"])), (&plain, json!([]))] {
        let (s, b) = f
            .app
            .post(
                "/api/v1/workspaces/w/webhooks",
                &f.app.admin,
                json!({"url": u, "secret": "a-long-enough-secret", "events": events}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    f.app
        .create(
            "w",
            "follow-up-rules",
            json!({"name": "Detractors", "trigger": "nps", "threshold": 6}),
        )
        .await;
    f.answer(
        json!({"id": "resp-hook-1", "answers": {"nps": 0, "contact": "+358 40 765 4321"}, "complete": true,
                    "hidden": {"customer_ref": "crm:secret-99"}}),
    )
    .await;
    let (_, list) = f.app.get(FU, &f.app.admin).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    for body in [
        json!({"action": "contact"}),
        json!({"action": "close", "root_cause": "policy", "action_taken": "Explained the rule"}),
    ] {
        let (s, b) = f
            .app
            .post(&format!("{FU}/{id}/actions"), &f.app.admin, body)
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while got.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let got = got.lock().unwrap().clone();
    let events: Vec<Value> = got
        .iter()
        .map(|(sig, body)| {
            assert_eq!(
                *sig,
                kohtaamo_app::jobs::sign("a-long-enough-secret", body.as_bytes())
            );
            assert!(
                !body.contains("secret-99"),
                "no customer identifier: {body}"
            );
            serde_json::from_str(body).unwrap()
        })
        .collect();
    let mut names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["follow_up.close", "follow_up.contact", "follow_up.opened"]
    );
    let opened = events
        .iter()
        .find(|e| e["event"] == "follow_up.opened")
        .unwrap();
    assert_eq!(
        (opened["id"].as_i64(), opened["status"].as_str()),
        (Some(id), Some("new"))
    );
    let close = events
        .iter()
        .find(|e| e["event"] == "follow_up.close")
        .unwrap();
    assert_eq!(
        (close["id"].as_i64(), close["root_cause"].as_str()),
        (Some(id), Some("policy"))
    );
    assert!(plain_got.lock().unwrap().is_empty(), "not opted in");
}

/// The customer's recovery survey over HTTP: viewing changes nothing, the page has no
/// referrer and is not indexed, a wrong link is a plain 404, and a poor answer reopens
/// the follow-up.
#[tokio::test]
async fn the_recovery_page_reopens_on_a_poor_answer() {
    let f = fixture().await;
    owned(&f).await;
    f.app
        .create(
            "w",
            "follow-up-rules",
            json!({"name": "Detractors", "trigger": "nps", "threshold": 6}),
        )
        .await;
    f.answer(json!({"id": "resp-rec-1", "answers": {"nps": 2, "contact": "liisa@example.fi"}, "complete": true}))
        .await;
    let (_, list) = f.app.get(FU, &f.app.admin).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let path = kohtaamo_app::followups::recovery_path(&f.app.store, id)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    // Not closed yet: the page says it has nothing to ask.
    let r = client.get(f.app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for body in [
        json!({"action": "contact"}),
        json!({"action": "close", "root_cause": "process", "action_taken": "Rebooked the trip"}),
    ] {
        let (s, b) = f
            .app
            .post(&format!("{FU}/{id}/actions"), &f.app.admin, body)
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    for _ in 0..2 {
        let r = client
            .get(f.app.url(&format!("{path}?lang=en")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("How well was your matter put right?"),
            "{html}"
        );
        assert!(html.contains("noindex"));
    }
    let bad = path.replace(&path[path.len() - 4..], "0000");
    let r = client.get(f.app.url(&bad)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client
        .post(f.app.url(&path))
        .form(&[("score", "7"), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "off the scale"
    );
    let (_, still) = f.app.get(&format!("{FU}/{id}"), &f.app.admin).await;
    assert_eq!(
        still["status"], "closed",
        "viewing and a bad answer change nothing"
    );
    let r = client
        .post(f.app.url(&path))
        .form(&[("score", "1"), ("lang", "fi")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("avattu uudelleen"));
    let (_, now) = f.app.get(&format!("{FU}/{id}"), &f.app.admin).await;
    assert_eq!(now["status"], "contacted");
    let steps: Vec<&str> = now["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(steps[steps.len() - 2..], ["recovery", "reopen"]);
}

/// A rule applied to a past period: a preview first, then the follow-ups opened, never
/// twice; a capture rule has no past to apply to.
#[tokio::test]
async fn a_rule_applies_to_a_past_period_after_a_preview() {
    let f = fixture().await;
    owned(&f).await;
    // Answers from before the rule existed: two low, one high.
    for (id, nps) in [("past-low-1", 2), ("past-low-2", 4), ("past-high", 9)] {
        let (s, b) = f
            .answer(json!({"id": id, "answers": {"nps": nps}, "complete": true}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let rule = f
        .app
        .create(
            "w",
            "follow-up-rules",
            json!({"name": "Detractors", "trigger": "nps", "threshold": 6}),
        )
        .await;
    // One arrives after: opened on arrival.
    f.answer(json!({"id": "after-low", "answers": {"nps": 1}, "complete": true}))
        .await;
    let today = chrono::Utc::now().date_naive();
    let apply = |body: Value| {
        let app = &f.app;
        async move {
            app.post(
                &format!("/api/v1/workspaces/w/follow-up-rules/{rule}/apply"),
                &app.admin,
                body,
            )
            .await
        }
    };
    let period =
        json!({"from": (today - chrono::Duration::days(7)).to_string(), "to": today.to_string()});
    let (s, b) = apply(period.clone()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b,
        json!({"matching": 3, "already": 1, "opened": 0}),
        "a preview"
    );
    let (_, list) = f.app.get(FU, &f.app.admin).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing opened by the preview"
    );
    let mut go = period.clone();
    go["dry_run"] = json!(false);
    let (_, b) = apply(go.clone()).await;
    assert_eq!(b, json!({"matching": 3, "already": 1, "opened": 2}));
    let (_, b) = apply(go).await;
    assert_eq!(
        b,
        json!({"matching": 3, "already": 3, "opened": 0}),
        "never twice"
    );
    let (_, list) = f.app.get(FU, &f.app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    // Bad days are named; a capture rule has no past responses; viewers may not.
    let (s, b) = apply(json!({"from": "yesterday", "to": "2026-13-01"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["from"].is_string() && b["fields"]["to"].is_string(),
        "{b}"
    );
    let capture = f
        .app
        .create(
            "w",
            "follow-up-rules",
            json!({"name": "Captures", "trigger": "capture"}),
        )
        .await;
    let (s, b) = f
        .app
        .post(
            &format!("/api/v1/workspaces/w/follow-up-rules/{capture}/apply"),
            &f.app.admin,
            period.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let ws = f
        .app
        .store
        .workspace_by_slug("w")
        .await
        .unwrap()
        .unwrap()
        .id;
    let viewer = f.app.member("looker", ws, Role::Viewer).await;
    let (s, _) = f
        .app
        .post(
            &format!("/api/v1/workspaces/w/follow-up-rules/{rule}/apply"),
            &viewer,
            period,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// A rule scoped to a service package opens follow-ups for the encounters at the
/// touchpoints whose element the package holds, and no others.
#[tokio::test]
async fn a_package_rule_watches_the_touchpoints_of_its_elements() {
    let f = fixture().await;
    let unit = owned(&f).await;
    let element = f
        .app
        .create(
            "w",
            "elements",
            json!({"slug": "dining", "name": texts("Dining"), "kind": "service", "owner": {"unit": unit}}),
        )
        .await;
    let package = f
        .app
        .create(
            "w",
            "packages",
            json!({"slug": "rail", "name": texts("Rail"), "elements": [{"element_id": element, "role": "complementary"}]}),
        )
        .await;
    let other = f
        .app
        .create(
            "w",
            "packages",
            json!({"slug": "bus", "name": texts("Bus")}),
        )
        .await;
    // The first touchpoint (the survey's) delivers the element.
    let path = format!("/api/v1/workspaces/w/touchpoints/{}", f.tps[0]);
    let (_, mut tp) = f.app.get(&path, &f.app.admin).await;
    for k in ["id", "position"] {
        tp.as_object_mut().unwrap().remove(k);
    }
    tp["element_id"] = json!(element);
    let (s, b) = f.app.put(&path, &f.app.admin, tp).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    for (name, p) in [("Rail", package), ("Bus", other)] {
        f.app
            .create(
                "w",
                "follow-up-rules",
                json!({"name": name, "trigger": "nps", "threshold": 6, "scope": "package", "scope_id": p}),
            )
            .await;
    }
    f.answer(json!({"id": "pkg-low-1", "answers": {"nps": 2}, "complete": true}))
        .await;
    let (_, list) = f.app.get(FU, &f.app.admin).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "only the package that holds the element: {list}"
    );
    let (_, rules) = f
        .app
        .get("/api/v1/workspaces/w/follow-up-rules", &f.app.admin)
        .await;
    let rail = rules["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Rail")
        .unwrap()["id"]
        .clone();
    assert_eq!(items[0]["rule_id"], rail);
    // A package that does not exist is refused.
    let (s, b) = f
        .app
        .post(
            "/api/v1/workspaces/w/follow-up-rules",
            &f.app.admin,
            json!({"name": "Ghost", "trigger": "nps", "threshold": 6, "scope": "package", "scope_id": 999_999}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
}
