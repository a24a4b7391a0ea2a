//! Model as code over the API.

use reqwest::StatusCode;

use crate::helpers::*;

const DEMO: &str = include_str!("../../../kohtaamo-app/demo/demo.yaml");

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

/// The demo workspace shows at least one finding of each kind, by design of its data.
#[tokio::test]
async fn insight_of_the_demo_has_a_finding_of_each_kind() {
    let app = spawn_app().await;
    app.workspace("demo").await;
    put_model(&app, "demo", DEMO, "").await;
    let (s, i) = app.get("/api/v1/workspaces/demo/insight", &app.admin).await;
    assert_eq!(s, StatusCode::OK);
    let nonempty = |path: &str| {
        i.pointer(path)
            .and_then(|v| v.as_array())
            .is_some_and(|a| !a.is_empty())
    };
    for path in [
        "/coverage/units_without_customers",
        "/coverage/stale_relations",
        "/hand_offs",
        "/hand_off_matrix",
        "/interface_gaps",
        "/orphan_steps",
        "/unsupported_touchpoints",
        "/labyrinth",
        "/packages_without_core",
        "/missing_enablers",
        "/unowned_elements",
    ] {
        assert!(nonempty(path), "no finding at {path}");
    }
    let chains = i["chains"].as_array().unwrap();
    assert!(
        chains.iter().any(|c| c["far_from_customer"] == true),
        "a unit far from the customer"
    );
    // IT → customer service → an external segment.
    let it = i["slugs"]["units"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| *v == "it")
        .map(|(k, _)| k.parse::<i64>().unwrap())
        .unwrap();
    let it_chain = chains.iter().find(|c| c["unit"] == it).unwrap();
    assert_eq!(it_chain["paths"][0][0].as_array().unwrap().len(), 2);
    assert!(i["hand_offs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["undeclared"] == true));
    let share = i["coverage"]["share_reaching_external"].as_f64().unwrap();
    assert!(share > 0.5 && share < 1.0, "{share}");
}
