//! Bad input gets a clear error and changes nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_and_wrong_types_are_400() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let url = app.url("/api/v1/workspaces/w/units");
    for body in [
        "{not json",
        "{\"slug\": \"a\", \"name\": {\"en\": 1}}",
        "{\"slug\": 5, \"name\": {}}",
        "[]",
        "{\"slug\": \"a\", \"name\": {\"en\": \"A\"}, \"parent_id\": \"x\"}",
    ] {
        let r = app
            .client
            .post(&url)
            .bearer_auth(&app.admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let b: serde_json::Value = r.json().await.unwrap();
        assert!(b["error"].as_str().is_some_and(|e| !e.is_empty()), "{b}");
    }
    // Unknown fields are refused rather than silently dropped.
    let (s, _) = app
        .post(
            "/api/v1/workspaces/w/units",
            &app.admin,
            json!({"slug": "a", "name": texts("A"), "colour": "red"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // A body that is not declared JSON.
    let r = app
        .client
        .post(&url)
        .bearer_auth(&app.admin)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A non-numeric id in the path.
    let (s, _) = app.get("/api/v1/workspaces/w/units/abc", &app.admin).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, list) = app.get("/api/v1/workspaces/w/units", &app.admin).await;
    assert_eq!(list["total"], 0, "nothing was stored");
}

#[tokio::test]
async fn oversize_bodies_are_413() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let huge = "x".repeat(300 * 1024);
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/units",
            &app.admin,
            json!({"slug": "a", "name": {"en": huge}}),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
    let (_, list) = app.get("/api/v1/workspaces/w/units", &app.admin).await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn validation_names_every_field() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let stage = {
        let seg = app
            .create("w", "segments", json!({"slug": "s", "name": texts("S")}))
            .await;
        let j = app
            .create(
                "w",
                "journeys",
                json!({"slug": "j", "name": texts("J"), "segment_id": seg}),
            )
            .await;
        app.create(
            "w",
            "stages",
            json!({"slug": "st", "name": texts("St"), "journey_id": j}),
        )
        .await
    };
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/touchpoints",
            &app.admin,
            json!({"stage_id": stage, "slug": "Not A Slug", "name": {}, "channel": "pigeon post", "lane": "onstage",
                   "interface": "company-customer", "emotion": 7, "owner": {"unit": 999}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b["error"], "validation failed");
    for f in ["slug", "name", "channel", "lane", "interface", "emotion"] {
        assert!(b["fields"][f].is_string(), "missing {f}: {b}");
    }
    // Values that parse but refer to nothing are named too.
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/touchpoints",
            &app.admin,
            json!({"stage_id": stage, "slug": "ok", "name": texts("Ok"), "channel": "kiosk", "lane": "frontstage", "owner": {"partner": 999}, "element_id": 998}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["channel", "owner", "element_id"] {
        assert!(b["fields"][f].is_string(), "missing {f}: {b}");
    }
    let (_, list) = app
        .get("/api/v1/workspaces/w/touchpoints", &app.admin)
        .await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn duplicates_are_409_and_unknown_ids_404() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let id = app.create("w", "units", unit("it")).await;
    let (s, b) = app
        .post("/api/v1/workspaces/w/units", &app.admin, unit("it"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    let other = app.create("w", "units", unit("legal")).await;
    let (s, _) = app
        .put(
            &format!("/api/v1/workspaces/w/units/{other}"),
            &app.admin,
            unit("it"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, b) = app
        .get(&format!("/api/v1/workspaces/w/units/{other}"), &app.admin)
        .await;
    assert_eq!(b["slug"], "legal", "the refused rename changed nothing");
    for path in [
        "/api/v1/workspaces/w/units/999999",
        "/api/v1/workspaces/nope/units",
        "/api/v1/workspaces/w/no-such-things",
    ] {
        let (s, _) = app.get(path, &app.admin).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = app
        .put("/api/v1/workspaces/w/units/999999", &app.admin, unit("x"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .delete("/api/v1/workspaces/w/units/999999", &app.admin)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .get(&format!("/api/v1/workspaces/w/units/{id}"), &app.admin)
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn hostile_strings_are_stored_and_returned_unchanged() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let samples = [
        "O'Brien \"quoted\" `back`",
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE units; --",
        "1 OR 1=1 /* */ %_ \\",
        "🚆 Junamatka – ääkköset ÅÄÖ 日本語",
    ];
    for (i, text) in samples.iter().enumerate() {
        let id = app.create("w", "segments", json!({"slug": format!("s{i}"), "name": {"fi": text, "en": text}, "needs": {"en": text}})).await;
        let (_, b) = app
            .get(&format!("/api/v1/workspaces/w/segments/{id}"), &app.admin)
            .await;
        assert_eq!(b["name"]["fi"], *text);
        assert_eq!(b["needs"]["en"], *text);
    }
    let (_, list) = app
        .get("/api/v1/workspaces/w/segments?q=DROP%20TABLE", &app.admin)
        .await;
    assert_eq!(list["total"], 1);
    let (_, list) = app.get("/api/v1/workspaces/w/segments", &app.admin).await;
    assert_eq!(list["total"], samples.len());
}

#[tokio::test]
async fn paging_and_filters_are_checked() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let parent = app.create("w", "units", unit("parent")).await;
    for i in 0..7 {
        app.create(
            "w",
            "units",
            json!({"slug": format!("u{i}"), "name": texts("U"), "parent_id": parent}),
        )
        .await;
    }
    let (_, p) = app
        .get("/api/v1/workspaces/w/units?limit=3&offset=6", &app.admin)
        .await;
    assert_eq!(p["total"], 8);
    assert_eq!(p["items"].as_array().unwrap().len(), 2);
    let (_, p) = app
        .get(
            &format!("/api/v1/workspaces/w/units?parent_id={parent}"),
            &app.admin,
        )
        .await;
    assert_eq!(p["total"], 7);
    for bad in [
        "limit=0",
        "limit=501",
        "limit=x",
        "offset=-1",
        "colour=red",
        "parent_id=abc",
    ] {
        let (s, b) = app
            .get(&format!("/api/v1/workspaces/w/units?{bad}"), &app.admin)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {b}");
        assert!(
            b["fields"].as_object().is_some_and(|f| !f.is_empty()),
            "{bad}: {b}"
        );
    }
}
