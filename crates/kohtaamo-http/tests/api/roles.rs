//! The role matrix and workspace isolation: what admin, editor and viewer may do, and
//! that nothing of workspace A is reachable through workspace B (404, never 403).

use kohtaamo_domain::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn each_role_gets_exactly_its_rights() {
    let app = spawn_app().await;
    let ws = app.workspace("w").await;
    let viewer = app.member("viewer", ws, Role::Viewer).await;
    let editor = app.member("editor", ws, Role::Editor).await;
    let admin = app.member("wsadmin", ws, Role::Admin).await;
    let unit_id = app.create("w", "units", unit("existing")).await;

    // (method, path, body, allowed for viewer, editor, admin)
    let cases: Vec<(Method, String, Option<Value>, [bool; 3])> = vec![
        (
            Method::GET,
            "/api/v1/workspaces/w".into(),
            None,
            [true, true, true],
        ),
        (
            Method::GET,
            "/api/v1/workspaces/w/units".into(),
            None,
            [true, true, true],
        ),
        (
            Method::GET,
            format!("/api/v1/workspaces/w/units/{unit_id}"),
            None,
            [true, true, true],
        ),
        (
            Method::GET,
            "/api/v1/workspaces/w/model".into(),
            None,
            [true, true, true],
        ),
        (
            Method::POST,
            "/api/v1/workspaces/w/units".into(),
            Some(unit("new-{role}")),
            [false, true, true],
        ),
        (
            Method::PUT,
            format!("/api/v1/workspaces/w/units/{unit_id}"),
            Some(unit("existing")),
            [false, true, true],
        ),
        (
            Method::GET,
            "/api/v1/workspaces/w/members".into(),
            None,
            [false, false, true],
        ),
        (
            Method::PUT,
            "/api/v1/workspaces/w/members/viewer".into(),
            Some(json!({"role": "viewer"})),
            [false, false, true],
        ),
        (
            Method::PUT,
            "/api/v1/workspaces/w".into(),
            Some(json!({"slug": "w", "name": texts("W"), "default_language": "en"})),
            [false, false, true],
        ),
    ];
    for (method, path, body, allowed) in cases {
        for (i, (role, token)) in [("viewer", &viewer), ("editor", &editor), ("admin", &admin)]
            .into_iter()
            .enumerate()
        {
            let body = body
                .as_ref()
                .map(|b| serde_json::from_str(&b.to_string().replace("{role}", role)).unwrap());
            let (s, b) = app.call(method.clone(), &path, token, body).await;
            if allowed[i] {
                assert!(s.is_success(), "{role} {method} {path}: {s} {b}");
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{role} {method} {path}: {b}");
            }
        }
    }
    // Deleting: viewer refused, editor allowed.
    let (s, _) = app
        .delete(&format!("/api/v1/workspaces/w/units/{unit_id}"), &viewer)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .get(&format!("/api/v1/workspaces/w/units/{unit_id}"), &viewer)
        .await;
    assert_eq!(s, StatusCode::OK, "the refused delete changed nothing");
    let (s, _) = app
        .delete(&format!("/api/v1/workspaces/w/units/{unit_id}"), &editor)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // A viewer may not import a model either.
    let r = app
        .client
        .put(app.url("/api/v1/workspaces/w/model"))
        .bearer_auth(&viewer)
        .body("kohtaamo: 1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Only admins may delete the workspace.
    let (s, _) = app.delete("/api/v1/workspaces/w", &editor).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.delete("/api/v1/workspaces/w", &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn nothing_crosses_workspaces() {
    let app = spawn_app().await;
    let a = app.workspace("a").await;
    app.workspace("b").await;
    let a_admin = app.member("alice", a, Role::Admin).await;
    let b_unit = app.create("b", "units", unit("b-unit")).await;
    let b_segment = app
        .create(
            "b",
            "segments",
            json!({"slug": "seg", "name": texts("Seg")}),
        )
        .await;

    // Workspace b does not exist for alice.
    for path in [
        "/api/v1/workspaces/b",
        "/api/v1/workspaces/b/units",
        "/api/v1/workspaces/b/model",
    ] {
        let (s, _) = app.get(path, &a_admin).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = app
        .get(&format!("/api/v1/workspaces/b/units/{b_unit}"), &a_admin)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .post("/api/v1/workspaces/b/units", &a_admin, unit("x"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = app.get("/api/v1/workspaces", &a_admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // b's ids through a: 404 for read, write and delete.
    let (s, _) = app
        .get(&format!("/api/v1/workspaces/a/units/{b_unit}"), &a_admin)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .put(
            &format!("/api/v1/workspaces/a/units/{b_unit}"),
            &a_admin,
            unit("stolen"),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .delete(&format!("/api/v1/workspaces/a/units/{b_unit}"), &a_admin)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Referring to b's records from a is refused as unknown.
    let (s, body) = app
        .post(
            "/api/v1/workspaces/a/units",
            &a_admin,
            json!({"slug": "c", "name": texts("C"), "parent_id": b_unit}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["fields"]["parent_id"].is_string(), "{body}");
    let (s, body) = app
        .post(
            "/api/v1/workspaces/a/journeys",
            &a_admin,
            json!({"slug": "j", "name": texts("J"), "segment_id": b_segment}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["fields"]["segment_id"].is_string(), "{body}");

    // And b is untouched.
    let (s, b) = app
        .get(&format!("/api/v1/workspaces/b/units/{b_unit}"), &app.admin)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["slug"], "b-unit");
}
