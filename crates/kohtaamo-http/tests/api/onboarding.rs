//! Onboarding from the browser: on an empty installation the installation admin
//! creates a workspace (empty or from a model file) and accounts; others are told whom
//! to ask; the members page names the installation admins.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn session(app: &TestApp, user: &str, pw: &str) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap();
    let sc = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    sc.split(';').next().unwrap().to_owned()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The page at `path` and the CSRF token of its first form.
async fn page_and_token(app: &TestApp, cookie: &str, path: &str) -> (String, String) {
    let html = no_redirects()
        .get(app.url(path))
        .header(COOKIE, cookie)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = html.find("name=\"_csrf\" value=\"").map(|i| i + 20);
    let token = at
        .map(|i| html[i..i + html[i..].find('"').unwrap()].to_owned())
        .unwrap_or_default();
    (html, token)
}

async fn post(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    no_redirects()
        .post(app.url(path))
        .header(COOKIE, cookie)
        .header("accept-language", "en")
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_installation_admin_creates_workspaces_and_accounts_in_the_browser() {
    let app = spawn_app().await;
    let admin = session(&app, "admin", ADMIN_PASSWORD).await;
    let (home, csrf) = page_and_token(&app, &admin, "/").await;
    assert!(home.contains("Create the first one below"), "{home}");
    // Bad input: every problem named, nothing created.
    let r = post(
        &app,
        &admin,
        "/workspaces/new",
        &[("_csrf", &csrf), ("slug", "Bad Slug"), ("language", "en")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("slug") && body.contains("name"), "{body}");
    let (_, list) = app.get("/api/v1/workspaces", &app.admin).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
    // An empty workspace.
    let r = post(
        &app,
        &admin,
        "/workspaces/new",
        &[
            ("_csrf", &csrf),
            ("slug", "rail"),
            ("name_fi", "Rautatie"),
            ("name_en", "Rail"),
            ("language", "fi"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/w/rail");
    // From a model file: the workspace it describes, with its model.
    let yaml = "kohtaamo: 1\nworkspace:\n  slug: shop\n  name: {en: Shop}\n  default_language: en\nunits:\n  - slug: sales\n    name: {en: Sales}\n";
    let r = post(
        &app,
        &admin,
        "/workspaces/new",
        &[("_csrf", &csrf), ("model", yaml)],
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let (_, units) = app.get("/api/v1/workspaces/shop/units", &app.admin).await;
    assert_eq!(units["items"][0]["slug"], "sales", "{units}");
    // The same file again: refused, named, nothing changed.
    let r = post(
        &app,
        &admin,
        "/workspaces/new",
        &[("_csrf", &csrf), ("model", yaml)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The demo workspace, once.
    let r = post(
        &app,
        &admin,
        "/workspaces/new",
        &[("_csrf", &csrf), ("demo", "demo")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/w/demo");
    let (_, w) = app.get("/api/v1/workspaces/demo/weakest", &app.admin).await;
    assert!(
        !w["items"].as_array().unwrap().is_empty(),
        "with its journey and responses"
    );
    let r = post(
        &app,
        &admin,
        "/workspaces/new",
        &[("_csrf", &csrf), ("demo", "demo")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // An account for a colleague, added as a viewer; a short password is refused.
    let (members, csrf) = page_and_token(&app, &admin, "/w/rail/members").await;
    assert!(
        members.contains("Installation admins (admin in every workspace): admin"),
        "the installation admin is listed"
    );
    let r = post(
        &app,
        &admin,
        "/w/rail/members/account",
        &[
            ("_csrf", &csrf),
            ("username", "leena"),
            ("password", "short"),
            ("role", "viewer"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.user_by_name("leena").await.unwrap().is_none());
    let r = post(
        &app,
        &admin,
        "/w/rail/members/account",
        &[
            ("_csrf", &csrf),
            ("username", "leena"),
            ("password", "a-long-enough-password"),
            ("role", "viewer"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The colleague logs in and lands in the workspace; they may not create workspaces
    // or accounts.
    let leena = session(&app, "leena", "a-long-enough-password").await;
    let r = no_redirects()
        .get(app.url("/"))
        .header(COOKIE, &leena)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/w/rail");
    let (_, theirs) = page_and_token(&app, &leena, "/w/rail").await;
    assert!(!theirs.is_empty());
    let (_, csrf) = page_and_token(&app, &leena, "/tokens").await;
    assert!(!csrf.is_empty());
    let r = post(
        &app,
        &leena,
        "/workspaces/new",
        &[
            ("_csrf", &csrf),
            ("slug", "mine"),
            ("name_en", "Mine"),
            ("language", "en"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Someone in no workspace is told whom to ask.
    app.store
        .create_user("newbie", "newbie-password-1", false)
        .await
        .unwrap();
    let newbie = session(&app, "newbie", "newbie-password-1").await;
    let (page, _) = page_and_token(&app, &newbie, "/").await;
    assert!(page.contains("Ask an installation admin"), "{page}");
}
