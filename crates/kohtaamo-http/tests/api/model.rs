//! The model through the API: packages with element roles, journeys with ordered
//! stages and touchpoints, process steps, who-is-my-customer relations.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn service_package_roles_and_publishing() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let ops = app.create("w", "units", unit("train-operations")).await;
    let partner = app
        .create(
            "w",
            "partners",
            json!({"slug": "restaurant-oy", "name": texts("Restaurant Oy")}),
        )
        .await;
    let el = |slug: &str, owner: serde_json::Value| json!({"slug": slug, "name": texts(slug), "kind": "service", "customer_visible": true, "has_it_components": false, "owner": owner});
    let rail = app
        .create("w", "elements", el("rail", json!({"unit": ops})))
        .await;
    let cs = app
        .create(
            "w",
            "elements",
            el("customer-service", serde_json::Value::Null),
        )
        .await;
    let food = app
        .create(
            "w",
            "elements",
            el("restaurant-car", json!({"partner": partner})),
        )
        .await;

    // Publishing needs a core element.
    let pkg = |published: bool, elements: serde_json::Value| json!({"slug": "rail-pkg", "name": texts("Rail"), "published": published, "elements": elements});
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/packages",
            &app.admin,
            pkg(true, json!([{"element_id": cs, "role": "enabling"}])),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["published"].is_string(), "{b}");
    let id = app
        .create("w", "packages", pkg(true, json!([{"element_id": rail, "role": "core"}, {"element_id": cs, "role": "enabling"}, {"element_id": food, "role": "complementary"}])))
        .await;
    let (_, got) = app
        .get(&format!("/api/v1/workspaces/w/packages/{id}"), &app.admin)
        .await;
    assert_eq!(
        got["elements"],
        json!([{"element_id": rail, "role": "core"}, {"element_id": cs, "role": "enabling"}, {"element_id": food, "role": "complementary"}])
    );

    // Removing the only core from a published package is refused and changes nothing.
    let (s, _) = app
        .put(
            &format!("/api/v1/workspaces/w/packages/{id}"),
            &app.admin,
            pkg(true, json!([{"element_id": cs, "role": "enabling"}])),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, again) = app
        .get(&format!("/api/v1/workspaces/w/packages/{id}"), &app.admin)
        .await;
    assert_eq!(again, got);

    // One element in several packages, with a different role in each.
    let other = app
        .create("w", "packages", json!({"slug": "after-sales", "name": texts("After"), "elements": [{"element_id": cs, "role": "core"}]}))
        .await;
    let (_, list) = app
        .get(
            &format!("/api/v1/workspaces/w/packages?element_id={cs}"),
            &app.admin,
        )
        .await;
    assert_eq!(list["total"], 2);
    let (_, o) = app
        .get(
            &format!("/api/v1/workspaces/w/packages/{other}"),
            &app.admin,
        )
        .await;
    assert_eq!(o["elements"][0]["role"], "core");

    // An element still in a package cannot be deleted; unknown roles and elements are named.
    let (s, _) = app
        .delete(&format!("/api/v1/workspaces/w/elements/{cs}"), &app.admin)
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, b) = app.post("/api/v1/workspaces/w/packages", &app.admin, json!({"slug": "x", "name": texts("X"), "published": false, "elements": [{"element_id": 99999, "role": "core"}, {"element_id": cs, "role": "central"}]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["elements[1].role"].is_string(), "{b}");
    let (s, b) = app.post("/api/v1/workspaces/w/packages", &app.admin, json!({"slug": "x", "name": texts("X"), "published": false, "elements": [{"element_id": 99999, "role": "core"}]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["elements[0]"].is_string(), "{b}");
    let (_, all) = app.get("/api/v1/workspaces/w/packages", &app.admin).await;
    assert_eq!(all["total"], 2);
}

#[tokio::test]
async fn journey_stages_touchpoints_and_steps() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let seg = app
        .create(
            "w",
            "segments",
            json!({"slug": "commuter", "name": texts("Commuter")}),
        )
        .await;
    let it = app.create("w", "units", unit("it")).await;
    let j = app
        .create(
            "w",
            "journeys",
            json!({"slug": "trip", "name": texts("Trip"), "segment_id": seg}),
        )
        .await;
    let mut stages = vec![];
    for s in ["plan", "buy", "travel"] {
        stages.push(
            app.create(
                "w",
                "stages",
                json!({"slug": s, "name": texts(s), "journey_id": j}),
            )
            .await,
        );
    }
    // A touchpoint in each lane, one on a workspace-defined channel.
    app.create(
        "w",
        "channels",
        json!({"slug": "kiosk", "name": texts("Kiosk")}),
    )
    .await;
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/channels",
            &app.admin,
            json!({"slug": "web", "name": texts("Web")}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "built-in channel names are taken: {b}"
    );
    let mut tps = vec![];
    for (i, lane) in [
        "customer_action",
        "frontstage",
        "backstage",
        "support_process",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"stage_id": stages[i % 3], "slug": format!("tp-{i}"), "name": texts(lane), "channel": if i == 0 { "kiosk" } else { "web" },
                          "owner": {"unit": it}, "lane": lane, "interface": "company_customer", "emotion": i as i64 - 2, "moment_of_truth": i == 1});
        tps.push(app.create("w", "touchpoints", body).await);
    }
    let (_, first) = app
        .get(
            &format!("/api/v1/workspaces/w/touchpoints/{}", tps[0]),
            &app.admin,
        )
        .await;
    assert_eq!(first["channel"], "kiosk");
    assert_eq!(first["emotion"], -2);

    // Reordering stages; an incomplete order is refused.
    let order = json!({"ids": [stages[2], stages[0], stages[1]]});
    let (s, _) = app
        .put(
            &format!("/api/v1/workspaces/w/journeys/{j}/stage-order"),
            &app.admin,
            order,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app
        .get(
            &format!("/api/v1/workspaces/w/stages?journey_id={j}"),
            &app.admin,
        )
        .await;
    let slugs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["travel", "plan", "buy"]);
    let (s, _) = app
        .put(
            &format!("/api/v1/workspaces/w/journeys/{j}/stage-order"),
            &app.admin,
            json!({"ids": [stages[0]]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = app
        .put(
            "/api/v1/workspaces/w/journeys/99999/stage-order",
            &app.admin,
            json!({"ids": []}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Touchpoints come back in journey order: stage position, then position.
    let (_, list) = app
        .get(
            &format!("/api/v1/workspaces/w/touchpoints?journey_id={j}"),
            &app.admin,
        )
        .await;
    let slugs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["tp-2", "tp-0", "tp-3", "tp-1"]);
    let (_, list) = app
        .get(
            "/api/v1/workspaces/w/touchpoints?lane=backstage",
            &app.admin,
        )
        .await;
    assert_eq!(list["total"], 1);

    // A process step serving several touchpoints.
    let step = app.create("w", "process-steps", json!({"slug": "seat-allocation", "name": texts("Seats"), "owner_unit_id": it, "duration_minutes": 5, "touchpoint_ids": [tps[0], tps[1]]})).await;
    let (_, list) = app
        .get(
            &format!(
                "/api/v1/workspaces/w/process-steps?touchpoint_id={}",
                tps[1]
            ),
            &app.admin,
        )
        .await;
    assert_eq!(list["items"][0]["id"], step);
    let (s, b) = app.post("/api/v1/workspaces/w/process-steps", &app.admin, json!({"slug": "x", "name": texts("X"), "duration_minutes": -5, "touchpoint_ids": [tps[0], tps[0]]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["duration_minutes"].is_string() && b["fields"]["touchpoint_ids[1]"].is_string(),
        "{b}"
    );

    // Deleting the journey takes its stages and touchpoints with it; the step stays, serving nothing.
    let (s, _) = app
        .delete(&format!("/api/v1/workspaces/w/journeys/{j}"), &app.admin)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app
        .get("/api/v1/workspaces/w/touchpoints", &app.admin)
        .await;
    assert_eq!(list["total"], 0);
    let (_, st) = app
        .get(
            &format!("/api/v1/workspaces/w/process-steps/{step}"),
            &app.admin,
        )
        .await;
    assert_eq!(st["touchpoint_ids"], json!([]));
}

#[tokio::test]
async fn who_is_my_customer_relations() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let it = app.create("w", "units", unit("it")).await;
    let cs = app.create("w", "units", unit("customer-service")).await;
    let seg = app
        .create(
            "w",
            "segments",
            json!({"slug": "commuter", "name": texts("Commuter")}),
        )
        .await;
    let person = app
        .create(
            "w",
            "people",
            json!({"slug": "anna", "name": "Anna", "email": "anna@example.com", "unit_id": cs}),
        )
        .await;
    // IT serves customer service (internal), reviewed long ago: stale.
    let internal = app
        .create("w", "relations", json!({"provider": {"unit": it}, "customer": {"unit": cs}, "value_statement": texts("One view of the customer"), "review_interval_days": 30, "last_reviewed_on": "2020-01-01"}))
        .await;
    app.create("w", "relations", json!({"provider": {"person": person}, "customer": {"segment": seg}, "review_interval_days": 3650, "last_reviewed_on": kohtaamo_storage::today().to_string()})).await;
    let (_, stale) = app
        .get("/api/v1/workspaces/w/relations?stale=true", &app.admin)
        .await;
    assert_eq!(stale["total"], 1);
    assert_eq!(stale["items"][0]["id"], internal);
    assert_eq!(stale["items"][0]["stale"], true);
    // Same provider and customer twice: 409. A unit serving itself: 422.
    let (s, _) = app
        .post(
            "/api/v1/workspaces/w/relations",
            &app.admin,
            json!({"provider": {"unit": it}, "customer": {"unit": cs}, "review_interval_days": 30}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/relations",
            &app.admin,
            json!({"provider": {"unit": it}, "customer": {"unit": it}, "review_interval_days": 30}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["customer"].is_string());
    // Mark reviewed: no longer stale.
    let (s, r) = app
        .post(
            &format!("/api/v1/workspaces/w/relations/{internal}/review"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["stale"], false);
    assert_eq!(r["last_reviewed_on"], kohtaamo_storage::today().to_string());
    let (_, stale) = app
        .get("/api/v1/workspaces/w/relations?stale=true", &app.admin)
        .await;
    assert_eq!(stale["total"], 0);
    // People: e-mail validated.
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/people",
            &app.admin,
            json!({"slug": "bob", "name": "  ", "email": "not-an-address"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["name"].is_string() && b["fields"]["email"].is_string(),
        "{b}"
    );
}

/// The review job notifies the owning unit in-app and by a signed webhook, once; a
/// review records who and when.
#[tokio::test]
async fn review_cycle_notifies_and_signs_webhooks() {
    let app = spawn_app().await;
    let ws = app.workspace("w").await;
    let editor = app
        .member("ed", ws, kohtaamo_domain::model::Role::Editor)
        .await;
    let it = app.create("w", "units", unit("it")).await;
    let cs = app.create("w", "units", unit("customer-service")).await;
    let rel = app
        .create("w", "relations", json!({"provider": {"unit": it}, "customer": {"unit": cs}, "review_interval_days": 30, "last_reviewed_on": "2020-01-01"}))
        .await;
    // A webhook receiver on loopback.
    let (hook_url, got) = webhook_sink().await;
    let (s, _) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &editor,
            json!({"url": hook_url, "secret": "a-long-enough-secret"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "only admins manage webhooks");
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &app.admin,
            json!({"url": "ftp://x", "secret": "short"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["url"].is_string() && b["fields"]["secret"].is_string());
    let (s, _) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &app.admin,
            json!({"url": hook_url, "secret": "a-long-enough-secret"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    let jobs = jobs_on(&app.store, kohtaamo_storage::today());
    assert_eq!(
        kohtaamo_app::jobs::review_cycle_once(&jobs).await.unwrap(),
        1
    );
    assert_eq!(
        kohtaamo_app::jobs::review_cycle_once(&jobs).await.unwrap(),
        0,
        "once per due date"
    );
    let deliveries = got.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 1);
    let (sig, body) = &deliveries[0];
    assert_eq!(
        *sig,
        kohtaamo_app::jobs::sign("a-long-enough-secret", body.as_bytes())
    );
    let payload: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["event"], "review_due");
    assert_eq!(payload["notification"]["unit_id"], it);
    let (_, n) = app
        .get(
            &format!("/api/v1/workspaces/w/notifications?unit_id={it}"),
            &editor,
        )
        .await;
    assert_eq!(n["items"].as_array().unwrap().len(), 1);
    assert_eq!(n["items"][0]["relation_id"], rel);

    // Reviewing records who and when.
    let (s, _) = app
        .post(
            &format!("/api/v1/workspaces/w/relations/{rel}/review"),
            &editor,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, h) = app
        .get(
            &format!("/api/v1/workspaces/w/relations/{rel}/reviews"),
            &editor,
        )
        .await;
    assert_eq!(h["items"][0]["username"], "ed");
    assert_eq!(
        h["items"][0]["reviewed_on"],
        kohtaamo_storage::today().to_string()
    );
    let (s, _) = app
        .get("/api/v1/workspaces/w/relations/999999/reviews", &editor)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
