//! Model as code over the API.

use reqwest::StatusCode;

use crate::helpers::*;

const DEMO: &str = include_str!("../../../kohtaamo/demo/demo.yaml");

async fn put_model(
    app: &TestApp,
    ws: &str,
    yaml: &str,
    query: &str,
) -> (StatusCode, serde_json::Value) {
    let r = app
        .client
        .put(app.url(&format!("/api/v1/workspaces/{ws}/model{query}")))
        .bearer_auth(&app.admin)
        .header("content-type", "application/yaml")
        .body(yaml.to_owned())
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or_default())
}

async fn get_model(app: &TestApp, ws: &str) -> String {
    let r = app
        .client
        .get(app.url(&format!("/api/v1/workspaces/{ws}/model")))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/yaml"));
    r.text().await.unwrap()
}

#[tokio::test]
async fn import_export_round_trip_and_idempotence() {
    let app = spawn_app().await;
    app.workspace("demo").await;
    let (s, r) = put_model(&app, "demo", DEMO, "").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(r["created"].as_u64().unwrap() > 50, "{r}");
    let first = get_model(&app, "demo").await;
    let (s, r) = put_model(&app, "demo", &first, "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (
            r["created"].as_u64(),
            r["updated"].as_u64(),
            r["deleted"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{r}"
    );
    assert_eq!(get_model(&app, "demo").await, first);
}

#[tokio::test]
async fn invalid_documents_change_nothing_and_name_every_path() {
    let app = spawn_app().await;
    app.workspace("demo").await;
    put_model(&app, "demo", DEMO, "").await;
    let before = get_model(&app, "demo").await;
    let broken = DEMO
        .replace("lane: backstage", "lane: offstage")
        .replace(
            "owner: {partner: restaurant-operator}\n    element: restaurant-car",
            "owner: {partner: nobody}\n    element: restaurant-car",
        )
        .replace("segment: leisure-traveller", "segment: tourists");
    let (s, b) = put_model(&app, "demo", &broken, "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let fields = b["fields"].as_object().unwrap();
    assert!(fields.keys().any(|k| k.ends_with(".lane")), "{b}");
    assert!(fields.contains_key("journeys[0].segment"), "{b}");
    assert_eq!(get_model(&app, "demo").await, before);
    // Syntax errors carry a position.
    let (s, b) = put_model(&app, "demo", "kohtaamo: 1\nworkspace: [oops", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["(document)"].as_str().unwrap().contains("line"),
        "{b}"
    );
    // A document for another workspace.
    let (s, b) = put_model(&app, "demo", &DEMO.replace("slug: demo", "slug: other"), "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["workspace.slug"].is_string());
    assert_eq!(get_model(&app, "demo").await, before);
}

#[tokio::test]
async fn prune_makes_the_workspace_equal_the_file() {
    let app = spawn_app().await;
    app.workspace("demo").await;
    put_model(&app, "demo", DEMO, "").await;
    let extra = app.create("demo", "units", unit("not-in-file")).await;
    let (_, r) = put_model(&app, "demo", DEMO, "").await;
    assert_eq!(r["deleted"], 0);
    let (s, _) = app
        .get(
            &format!("/api/v1/workspaces/demo/units/{extra}"),
            &app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "without prune, extra records stay");
    let (_, r) = put_model(&app, "demo", DEMO, "?prune=true").await;
    assert_eq!(r["deleted"], 1, "{r}");
    let (s, _) = app
        .get(
            &format!("/api/v1/workspaces/demo/units/{extra}"),
            &app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
