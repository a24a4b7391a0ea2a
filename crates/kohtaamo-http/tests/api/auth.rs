//! Sessions, CSRF, tokens and login rate limits.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn login(app: &TestApp, user: &str, pw: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap()
}

fn session_cookie(resp: &reqwest::Response) -> String {
    let sc = resp
        .headers()
        .get(SET_COOKIE)
        .expect("set-cookie")
        .to_str()
        .unwrap()
        .to_string();
    assert!(sc.contains("HttpOnly"), "{sc}");
    assert!(sc.contains("SameSite=Lax"), "{sc}");
    sc.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn health_checks_need_no_auth_and_everything_else_does() {
    let app = spawn_app().await;
    for p in ["/healthz", "/readyz"] {
        let r = app.client.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
    }
    for p in [
        "/api/v1/workspaces",
        "/api/v1/openapi.json",
        "/api/v1/auth/session",
        "/api/v1/tokens",
    ] {
        let r = app.client.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{p}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "authentication required");
    }
    let (s, _) = app.get("/api/v1/workspaces", "kt_not-a-token").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn session_login_csrf_rotation_and_logout() {
    let app = spawn_app().await;
    let ws = app.workspace("w").await;
    let bad = login(&app, "admin", "wrong-password").await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(bad.headers().get(SET_COOKIE).is_none());

    let r = login(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie1 = session_cookie(&r);
    let body: serde_json::Value = r.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(body["workspaces"][0]["slug"], "w");

    // Reading works with the cookie alone.
    let r = app
        .client
        .get(app.url("/api/v1/auth/session"))
        .header(COOKIE, &cookie1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Writing with the cookie needs the CSRF token.
    let units = app.url("/api/v1/workspaces/w/units");
    let r = app
        .client
        .post(&units)
        .header(COOKIE, &cookie1)
        .json(&unit("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(&units)
        .header(COOKIE, &cookie1)
        .header("x-csrf-token", "forged")
        .json(&unit("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.store
            .list::<kohtaamo_domain::model::UnitData>(ws, &Default::default())
            .await
            .map(|p| p.total)
            .unwrap_or(0),
        0
    );
    let r = app
        .client
        .post(&units)
        .header(COOKIE, &cookie1)
        .header("x-csrf-token", &csrf)
        .json(&unit("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // Logging in again from the same browser rotates the session id.
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header(COOKIE, &cookie1)
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie2 = session_cookie(&r);
    assert_ne!(cookie1, cookie2);
    let r = app
        .client
        .get(app.url("/api/v1/auth/session"))
        .header(COOKIE, &cookie1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the old session id must be dead"
    );
    let body: serde_json::Value = app
        .client
        .get(app.url("/api/v1/auth/session"))
        .header(COOKIE, &cookie2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf2 = body["csrf_token"].as_str().unwrap().to_string();

    // Logout needs CSRF too, then the session is gone server-side.
    let r = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header(COOKIE, &cookie2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header(COOKIE, &cookie2)
        .header("x-csrf-token", &csrf2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let r = app
        .client
        .get(app.url("/api/v1/auth/session"))
        .header(COOKIE, &cookie2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_can_be_revoked() {
    let app = spawn_app().await;
    // Tokens are made by a person in a session (or on the command line) …
    let resp = login(&app, "admin", ADMIN_PASSWORD).await;
    let cookie = session_cookie(&resp);
    let body: serde_json::Value = resp.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let make = |name: &'static str| {
        let (client, url, cookie, csrf) = (
            app.client.clone(),
            app.url("/api/v1/tokens"),
            cookie.clone(),
            csrf.clone(),
        );
        async move {
            let r = client
                .post(url)
                .header(COOKIE, cookie)
                .header("x-csrf-token", csrf)
                .json(&json!({ "name": name }))
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (s, b) = make("script").await;
    assert_eq!(s, StatusCode::CREATED);
    let token = b["token"].as_str().unwrap().to_string();
    let id = b["id"].as_i64().unwrap();
    assert!(token.starts_with("kt_"));
    let (s, list) = app.get("/api/v1/tokens", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !list.to_string().contains(&token),
        "the secret must not be listed"
    );
    // … not by another token: a token that made tokens could be revoked and leave
    // its offspring working (issue 12).
    let (s, b) = app
        .post("/api/v1/tokens", &token, json!({"name": "offspring"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, _) = app.delete(&format!("/api/v1/tokens/{id}"), &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.get("/api/v1/workspaces", &token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) = make("  ").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["name"].is_string());
}

#[tokio::test]
async fn login_is_rate_limited_per_account() {
    let app = spawn_app_with(kohtaamo_http::HttpConfig {
        login_per_minute_account: 3,
        login_per_minute_ip: 1000,
        ..Default::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            login(&app, "admin", "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = login(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // Another account is not affected.
    app.store
        .create_user("other", "other-password", false)
        .await
        .unwrap();
    assert_eq!(
        login(&app, "other", "other-password").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn login_is_rate_limited_per_address() {
    let app = spawn_app_with(kohtaamo_http::HttpConfig {
        login_per_minute_account: 1000,
        login_per_minute_ip: 3,
        ..Default::default()
    })
    .await;
    for name in ["a", "b", "c"] {
        assert_eq!(
            login(&app, name, "whatever-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&app, "admin", ADMIN_PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn only_installation_admins_manage_accounts_and_workspaces() {
    let app = spawn_app().await;
    let ws = app.workspace("w").await;
    let editor = app
        .member("ed", ws, kohtaamo_domain::model::Role::Admin)
        .await;
    let (s, _) = app
        .post(
            "/api/v1/users",
            &editor,
            json!({"username": "x", "password": "long-enough-pw"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .post(
            "/api/v1/workspaces",
            &editor,
            json!({"slug": "new", "name": texts("New"), "default_language": "fi"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"username": "x", "password": "short"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["password"].is_string());
    let (s, _) = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"username": "x", "password": "long-enough-pw"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"username": "x", "password": "long-enough-pw"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, b) = app
        .post(
            "/api/v1/workspaces",
            &app.admin,
            json!({"slug": "new", "name": texts("New"), "default_language": "sv"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, _) = app
        .post(
            "/api/v1/workspaces",
            &app.admin,
            json!({"slug": "new", "name": texts("New"), "default_language": "sv"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
}

/// Pages go out gzip-compressed; the CSRF token in them is masked afresh each time
/// (never the session's token as is), so compressed sizes do not reveal it, and every
/// masked copy is accepted by a form post.
#[tokio::test]
async fn pages_are_compressed_and_carry_a_fresh_masked_csrf_token() {
    use std::io::Read;
    let app = spawn_app().await;
    app.workspace("w").await;
    let r = login(&app, "admin", ADMIN_PASSWORD).await;
    let cookie = session_cookie(&r);
    let body: serde_json::Value = r.json().await.unwrap();
    let secret = body["csrf_token"].as_str().unwrap().to_string();
    let mut tokens = vec![];
    for _ in 0..2 {
        let r = app
            .client
            .get(app.url("/w/w/edit/units/new"))
            .header(COOKIE, &cookie)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        let gz = r.bytes().await.unwrap();
        let mut html = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut html)
            .unwrap();
        assert!(html.len() > gz.len() * 2, "compressed");
        assert!(
            !html.contains(&secret),
            "the session's token never appears as is"
        );
        let at = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
        tokens.push(html[at..at + html[at..].find('"').unwrap()].to_string());
    }
    assert_ne!(tokens[0], tokens[1], "a fresh mask per page");
    for (k, t) in tokens.iter().enumerate() {
        let r = app
            .client
            .post(app.url("/w/w/edit/units/new"))
            .header(COOKIE, &cookie)
            .form(&[
                ("_csrf", t.as_str()),
                ("slug", &format!("u{k}")),
                ("name.en", "Unit"),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_redirection() || r.status() == StatusCode::OK,
            "{}",
            r.status()
        );
    }
    let mut forged = tokens[0].clone();
    forged.replace_range(0..2, if &forged[0..2] == "00" { "11" } else { "00" });
    let r = app
        .client
        .post(app.url("/w/w/edit/units/new"))
        .header(COOKIE, &cookie)
        .form(&[
            ("_csrf", forged.as_str()),
            ("slug", "u9"),
            ("name.en", "Unit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, units) = app.get("/api/v1/workspaces/w/units", &app.admin).await;
    let slugs: Vec<&str> = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["u0", "u1"]);
}
