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

/// Units that act: a viewer who works in a unit reviews that unit's who-is-my-customer
/// answers (its own and its people's), not another unit's; only admins say who works
/// where; leaving the workspace leaves its units; a unit member lands on the unit page.
#[tokio::test]
async fn unit_members_review_their_units_answers_without_editing_the_model() {
    let app = spawn_app().await;
    let ws = app.workspace("w").await;
    let it = app.create("w", "units", unit("it")).await;
    let legal = app.create("w", "units", unit("legal")).await;
    let seg = app
        .create("w", "segments", json!({"slug": "s", "name": texts("S")}))
        .await;
    let person = app
        .create(
            "w",
            "people",
            json!({"slug": "pia", "name": "Pia", "unit_id": it}),
        )
        .await;
    let relation = |provider: Value| json!({"provider": provider, "customer": {"segment": seg}, "review_interval_days": 30, "last_reviewed_on": "2020-01-01"});
    let ours = app
        .create("w", "relations", relation(json!({"unit": it})))
        .await;
    let pias = app
        .create("w", "relations", relation(json!({"person": person})))
        .await;
    let theirs = app
        .create("w", "relations", relation(json!({"unit": legal})))
        .await;
    let head = app.member("head-of-it", ws, Role::Viewer).await;
    let editor = app.member("editor", ws, Role::Editor).await;
    let review = |token: String, rel: i64| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/workspaces/w/relations/{rel}/review"),
                &token,
                json!({}),
            )
            .await
            .0
        }
    };
    // In no unit: a viewer reads, does not review.
    assert_eq!(review(head.clone(), ours).await, StatusCode::FORBIDDEN);
    // Only an admin puts people in units; the user must be a workspace member.
    let put = |token: String, unit: i64, user: &'static str| {
        let app = &app;
        async move {
            app.put(
                &format!("/api/v1/workspaces/w/units/{unit}/members/{user}"),
                &token,
                json!({}),
            )
            .await
            .0
        }
    };
    assert_eq!(
        put(editor.clone(), it, "head-of-it").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put(app.admin.clone(), it, "head-of-it").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        put(app.admin.clone(), it, "head-of-it").await,
        StatusCode::NO_CONTENT
    );
    app.store
        .create_user("outsider", "outsider-password-1", false)
        .await
        .unwrap();
    let (s, body) = app
        .put(
            &format!("/api/v1/workspaces/w/units/{it}/members/outsider"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["fields"]["username"].is_string(), "{body}");
    assert_eq!(
        put(app.admin.clone(), 999_999, "head-of-it").await,
        StatusCode::NOT_FOUND
    );
    let (_, list) = app
        .get(&format!("/api/v1/workspaces/w/units/{it}/members"), &head)
        .await;
    assert_eq!(list["items"][0]["username"], "head-of-it");
    assert_eq!(list["items"][0]["lead"], false);
    // Putting them again as the lead sets only that.
    let (s, _) = app
        .put(
            &format!("/api/v1/workspaces/w/units/{it}/members/head-of-it?lead=true"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app
        .get(&format!("/api/v1/workspaces/w/units/{it}/members"), &head)
        .await;
    assert_eq!(list["items"][0]["lead"], true);
    // Their own e-mail address (for notifications): theirs to set, checked.
    let (s, b) = app
        .put(
            "/api/v1/users/head-of-it/email",
            &head,
            json!({"email": "not an address"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["email"].is_string(), "{b}");
    let (s, _) = app
        .put(
            "/api/v1/users/head-of-it/email",
            &head,
            json!({"email": "head@example.fi"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app
        .put(
            "/api/v1/users/outsider/email",
            &head,
            json!({"email": "x@example.fi"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "not someone else's");
    let who = app.store.user_by_name("head-of-it").await.unwrap().unwrap();
    let c = app.store.contacts(&[who.id]).await.unwrap();
    assert_eq!(c[0].email.as_deref(), Some("head@example.fi"));
    // Now the head of IT reviews IT's answers (the unit's and its people's) …
    assert_eq!(review(head.clone(), ours).await, StatusCode::OK);
    assert_eq!(review(head.clone(), pias).await, StatusCode::OK);
    // … not Legal's, and still cannot edit the model.
    assert_eq!(review(head.clone(), theirs).await, StatusCode::FORBIDDEN);
    let (s, _) = app
        .put(
            &format!("/api/v1/workspaces/w/units/{it}"),
            &head,
            unit("it"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Editors review anything.
    assert_eq!(review(editor.clone(), theirs).await, StatusCode::OK);
    // The review is recorded with who did it, and the relation is no longer due.
    let (_, hist) = app
        .get(
            &format!("/api/v1/workspaces/w/relations/{ours}/reviews"),
            &app.admin,
        )
        .await;
    assert_eq!(hist["items"].as_array().unwrap().len(), 1);
    let (_, stale) = app
        .get("/api/v1/workspaces/w/relations?stale=true", &app.admin)
        .await;
    assert_eq!(stale["total"], 0, "{stale}");
    // Leaving the workspace leaves its units.
    let head_id = app
        .store
        .user_by_name("head-of-it")
        .await
        .unwrap()
        .unwrap()
        .id;
    app.store.remove_member(ws, head_id).await.unwrap();
    assert!(app
        .store
        .units_of_user(ws, head_id)
        .await
        .unwrap()
        .is_empty());
    app.store
        .set_member(ws, head_id, Role::Viewer)
        .await
        .unwrap();
    assert_eq!(review(head.clone(), ours).await, StatusCode::FORBIDDEN);
    let (s, _) = app
        .delete(
            &format!("/api/v1/workspaces/w/units/{it}/members/head-of-it"),
            &app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not in the unit any more");
    // A unit member lands on the unit's page.
    app.store
        .add_unit_member(ws, it, head_id, false)
        .await
        .unwrap();
    let login = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "head-of-it", "password": "member-password-1"}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let landing = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(landing.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        landing.headers()["location"],
        format!("/w/w/units/{it}").as_str()
    );
}
