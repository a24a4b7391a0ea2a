//! The served routes and the OpenAPI document agree.

use reqwest::{Method, StatusCode};

use crate::helpers::*;

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app().await;
    app.workspace("w").await;
    let (s, doc) = app.get("/api/v1/openapi.json", &app.admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    // The document covers the model: one collection and item path per entity.
    for c in [
        "units",
        "people",
        "partners",
        "segments",
        "relations",
        "channels",
        "elements",
        "packages",
        "journeys",
        "stages",
        "touchpoints",
        "process-steps",
    ] {
        assert!(
            paths.contains_key(&format!("/api/v1/workspaces/{{ws}}/{c}")),
            "{c}"
        );
        assert!(
            paths.contains_key(&format!("/api/v1/workspaces/{{ws}}/{c}/{{id}}")),
            "{c}"
        );
    }
    let mut checked = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let url = path
                .replace("{ws}", "w")
                .replace("{id}", "999999")
                .replace("{username}", "nobody");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = app.client.request(m, app.url(&url)).bearer_auth(&app.admin);
            if op.get("requestBody").is_some() {
                req = req.header("content-type", "application/json").body("{}");
            }
            let r = req.send().await.unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !body.contains("no such route"),
                "{method} {path} is documented but not served"
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
    // And a route that is not documented is not served.
    let (s, b) = app.get("/api/v1/workspaces/w/secrets", &app.admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(b["error"], "no such route");
}
