//! Analytics beyond the basic score table: every scope's figures agree with the
//! responses listed behind them, group trends, response rates, and alert rules (API
//! validation, the evaluating job on two instances at once, signed webhooks, in-app
//! alerts per unit).

use kohtaamo_app::jobs::alert_cycle_once;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::feedback::{fixture, survey_body, Fixture};
use crate::helpers::*;

/// Adds an owned part of the model to the fixture: unit "ops" owning a touchpoint with
/// package element "dining" (core of package "rail"), a partner owning another, each
/// with an active survey. Returns (unit, partner, element, package, [tp_unit, tp_partner],
/// [survey keys]).
async fn owned_model(f: &Fixture) -> (i64, i64, i64, i64, Vec<i64>, Vec<String>) {
    let app = &f.app;
    let unit = app.create("w", "units", unit("ops")).await;
    let partner = app
        .create(
            "w",
            "partners",
            json!({"slug": "caterer", "name": texts("Caterer")}),
        )
        .await;
    let element = app
        .create("w", "elements", json!({"slug": "dining", "name": texts("Dining"), "kind": "service", "owner": {"unit": unit}}))
        .await;
    let package = app
        .create("w", "packages", json!({"slug": "rail", "name": texts("Rail"), "elements": [{"element_id": element, "role": "core"}]}))
        .await;
    let (_, tp0) = app
        .get(
            &format!("/api/v1/workspaces/w/touchpoints/{}", f.tps[0]),
            &app.admin,
        )
        .await;
    let stage = tp0["stage_id"].as_i64().unwrap();
    let mut tps = vec![];
    let mut keys = vec![];
    for (slug, owner, el) in [
        ("ordering", json!({"unit": unit}), Some(element)),
        ("catering", json!({"partner": partner}), None),
    ] {
        let tp = app
            .create("w", "touchpoints", json!({"stage_id": stage, "slug": slug, "name": texts(slug), "channel": "web",
                "owner": owner, "element_id": el, "lane": "frontstage", "emotion": 0, "moment_of_truth": false}))
            .await;
        let s = app
            .create("w", "surveys", survey_body(slug, tp, "active"))
            .await;
        let (_, links) = app
            .get(
                &format!("/api/v1/workspaces/w/surveys/{s}/links"),
                &app.admin,
            )
            .await;
        let url = links["public_url"].as_str().unwrap().to_owned();
        keys.push(url.rsplit('/').next().unwrap().to_owned());
        tps.push(tp);
    }
    (unit, partner, element, package, tps, keys)
}

async fn answer(f: &Fixture, key: &str, body: Value) {
    let resp = f
        .app
        .client
        .post(
            f.app
                .url(&format!("/api/public/v1/surveys/{key}/responses")),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn every_figure_lists_exactly_the_responses_behind_it() {
    let f = fixture().await;
    let (unit, partner, element, package, tps, keys) = owned_model(&f).await;
    let langs = ["fi", "en", "sv"];
    let channels = ["web", "email", "in_person"];
    for n in 0..36i64 {
        let key = [f.key.as_str(), &keys[0], &keys[1]][(n % 3) as usize];
        let mut hidden =
            json!({"locale": langs[(n % 3) as usize], "channel": channels[(n / 3 % 3) as usize]});
        if n % 4 == 0 {
            hidden["channel"] = Value::Null;
        }
        answer(&f, key, json!({"id": format!("resp-{n:04}"), "answers": {"nps": n % 11, "csat": 1 + n % 5}, "hidden": hidden})).await;
    }
    // Partial responses never count, in the figures or behind them.
    answer(
        &f,
        &keys[0],
        json!({"id": "partial-1", "answers": {"nps": 2}, "complete": false}),
    )
    .await;
    let mut checked = 0;
    for by in [
        "touchpoint",
        "stage",
        "journey",
        "package",
        "element",
        "unit",
        "partner",
        "segment",
        "channel",
        "language",
        "survey",
    ] {
        let (s, t) = f
            .app
            .get(
                &format!("/api/v1/workspaces/w/scores?by={by}"),
                &f.app.admin,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        let rows = t["rows"].as_array().unwrap();
        assert!(!rows.is_empty(), "{by} has groups");
        for r in rows {
            let key = match &r["key"] {
                Value::String(s) => s.clone(),
                k => k.to_string(),
            };
            let (s, page) = f
                .app
                .get(
                    &format!(
                        "/api/v1/workspaces/w/responses?by={by}&key={key}&complete=true&from={}&to={}",
                        t["from"].as_str().unwrap(),
                        t["to"].as_str().unwrap()
                    ),
                    &f.app.admin,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{page}");
            assert_eq!(
                page["total"], r["responses"],
                "{by} {key}: the list and the figure agree"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} groups checked");
    // The owned groups exist with the right sizes: 12 responses per survey.
    async fn total(app: &TestApp, by: &str, key: i64) -> i64 {
        let (_, page) = app
            .get(
                &format!("/api/v1/workspaces/w/responses?by={by}&key={key}&complete=true"),
                &app.admin,
            )
            .await;
        page["total"].as_i64().unwrap()
    }
    assert_eq!(total(&f.app, "unit", unit).await, 12);
    assert_eq!(total(&f.app, "partner", partner).await, 12);
    assert_eq!(total(&f.app, "element", element).await, 12);
    assert_eq!(total(&f.app, "package", package).await, 12);
    assert_eq!(total(&f.app, "touchpoint", tps[1]).await, 12);
    // Unknown scope or key: every problem named.
    let (s, b) = f
        .app
        .get("/api/v1/workspaces/w/responses?by=planet", &f.app.admin)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["fields"]["by"].is_string() && b["fields"]["key"].is_string(),
        "{b}"
    );
    let (s, b) = f
        .app
        .get(
            "/api/v1/workspaces/w/responses?by=unit&key=abc",
            &f.app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["key"].is_string(), "{b}");
    // Response rates where impressions are known.
    for _ in 0..24 {
        let imp = f
            .app
            .client
            .post(
                f.app
                    .url(&format!("/api/public/v1/surveys/{}/impressions", keys[0])),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(imp.status(), StatusCode::NO_CONTENT);
    }
    let (_, t) = f
        .app
        .get("/api/v1/workspaces/w/scores?by=unit", &f.app.admin)
        .await;
    let row = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == unit)
        .unwrap()
        .clone();
    assert_eq!(row["shown"], 24, "{row}");
    assert!(
        (row["response_rate"].as_f64().unwrap() - 50.0).abs() < 1e-9,
        "{row}"
    );
    // A group's trend: per day, week or month.
    for grain in ["day", "week", "month"] {
        let (s, w) = f
            .app
            .get(
                &format!("/api/v1/workspaces/w/scores/weekly?grain={grain}&by=unit&key={unit}"),
                &f.app.admin,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{w}");
        let sum: i64 = w
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["responses"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, 12, "{grain}");
    }
    let (s, _) = f
        .app
        .get(
            "/api/v1/workspaces/w/scores/weekly?grain=hour",
            &f.app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn alert_rules_notify_the_owning_unit_once_even_on_two_instances() {
    let f = fixture().await;
    let (unit, _, _, package, tps, keys) = owned_model(&f).await;
    let app = &f.app;
    let editor = app
        .member(
            "ed",
            app.store.workspace_by_slug("w").await.unwrap().unwrap().id,
            kohtaamo_domain::model::Role::Editor,
        )
        .await;
    // Validation names every bad field and stores nothing.
    let (s, b) = app
        .post("/api/v1/workspaces/w/alert-rules", &editor,
            json!({"scope": "touchpoint", "key": "999999", "metric": "mood", "condition": "below", "period_days": 0}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["metric", "threshold", "period_days"] {
        assert!(b["fields"][field].is_string(), "{field}: {b}");
    }
    let (s, b) = app
        .post("/api/v1/workspaces/w/alert-rules", &editor,
            json!({"scope": "touchpoint", "key": "999999", "metric": "nps", "condition": "below", "threshold": 0}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["key"].is_string(), "unknown touchpoint: {b}");
    let (_, list) = app.get("/api/v1/workspaces/w/alert-rules", &editor).await;
    assert_eq!(list["total"], 0);
    // A rule on the unit's touchpoint (no unit named: the owner is notified) and a
    // drop rule that must stay quiet.
    let below = app
        .create("w", "alert-rules", json!({"scope": "touchpoint", "key": tps[0].to_string(), "metric": "nps", "condition": "below", "threshold": 0, "period_days": 7}))
        .await;
    app.create(
        "w",
        "alert-rules",
        json!({"scope": "unit", "key": unit.to_string(), "metric": "csat", "condition": "drop"}),
    )
    .await;
    // Follow-up rules on score alerts: workspace-wide and on the owning unit (both
    // open one), on another touchpoint (opens none); an alert rule takes no threshold.
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/follow-up-rules",
            &editor,
            json!({"name": "x", "trigger": "alert", "threshold": 3}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["fields"]["threshold"].is_string(), "{b}");
    let on_alerts = app
        .create("w", "follow-up-rules", json!({"name": "Any alert", "trigger": "alert", "contact_hours": 48, "resolve_hours": 240}))
        .await;
    let on_unit = app
        .create(
            "w",
            "follow-up-rules",
            json!({"name": "Our alerts", "trigger": "alert", "scope": "unit", "scope_id": unit}),
        )
        .await;
    app.create(
        "w",
        "follow-up-rules",
        json!({"name": "Elsewhere", "trigger": "alert", "scope": "touchpoint", "scope_id": tps[1]}),
    )
    .await;
    let (hook_url, got) = webhook_sink().await;
    let (s, _) = app
        .post(
            "/api/v1/workspaces/w/webhooks",
            &app.admin,
            json!({"url": hook_url, "secret": "a-long-enough-secret"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // 40 answers at the unit's touchpoint, mostly detractors: NPS (10 − 25) / 40 = −37.5.
    for n in 0..40 {
        let nps = if n < 25 {
            2
        } else if n < 30 {
            8
        } else {
            10
        };
        answer(
            &f,
            &keys[0],
            json!({"id": format!("alert-{n:04}"), "answers": {"nps": nps, "csat": 4}}),
        )
        .await;
    }
    // Evaluated while the period is still running: nothing yet.
    let today = kohtaamo_storage::today();
    let none = alert_cycle_once(&jobs_on(&app.store, today)).await.unwrap();
    assert!(none.is_empty(), "the current period is not complete");
    // A week later the period is complete. Two instances evaluate at the same time.
    let later = today + chrono::Duration::days(7);
    let other = kohtaamo_storage::Store::connect(&app.db_url).await.unwrap();
    let (one, two) = (jobs_on(&app.store, later), jobs_on(&other, later));
    let (a, b) = tokio::join!(alert_cycle_once(&one), alert_cycle_once(&two));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 1, "one alert in all: {a:?} {b:?}");
    let alert = a.into_iter().chain(b).next().unwrap();
    assert_eq!(alert.rule_id, below);
    assert_eq!(alert.unit_id, Some(unit), "the owning unit");
    assert_eq!(alert.n, 40);
    assert!((alert.value + 37.5).abs() < 1e-9, "{alert:?}");
    let again = alert_cycle_once(&jobs_on(&app.store, later)).await.unwrap();
    assert!(again.is_empty(), "once per period");
    // The alert opened one follow-up per matching rule, in its transaction, once:
    // for learning (no customer), at the unit the alert went to, with the rule's clocks.
    let (_, fus) = app
        .get("/api/v1/workspaces/w/follow-ups?limit=50", &editor)
        .await;
    let mut fus = fus["items"].as_array().unwrap().clone();
    fus.sort_by_key(|f| f["rule_id"].as_i64());
    assert_eq!(fus.len(), 2, "{fus:?}");
    for (f, rule) in fus.iter().zip([on_alerts, on_unit]) {
        assert_eq!(f["rule_id"], rule);
        assert_eq!(f["source"], "alert");
        assert_eq!(f["alert_id"], alert.id);
        assert_eq!(f["unit_id"], unit);
        assert_eq!(f["touchpoint_id"], tps[0]);
        assert_eq!(f["may_contact"], false);
        assert!(f["customer"].is_null());
        assert!(
            f["reason"].as_str().unwrap().starts_with("NPS −38 ± "),
            "{f}"
        );
    }
    assert_eq!(fus[0]["contact_hours"], 48);
    assert_eq!(fus[0]["resolve_hours"], 240);
    // A learning-only follow-up: no contact step.
    let (s, b) = app
        .post(
            &format!("/api/v1/workspaces/w/follow-ups/{}/actions", fus[0]["id"]),
            &editor,
            json!({"action": "contact"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    // A rule made later applies to the alerts already raised: preview, then once.
    let late = app
        .create(
            "w",
            "follow-up-rules",
            json!({"name": "Late", "trigger": "alert", "scope": "package", "scope_id": package}),
        )
        .await;
    let period =
        json!({"from": today.to_string(), "to": (today + chrono::Duration::days(1)).to_string()});
    let apply = |body: Value| {
        let app = &f.app;
        async move {
            app.post(
                &format!("/api/v1/workspaces/w/follow-up-rules/{late}/apply"),
                &app.admin,
                body,
            )
            .await
        }
    };
    let (s, b) = apply(period.clone()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b, json!({"matching": 1, "already": 0, "opened": 0}));
    let mut go = period;
    go["dry_run"] = json!(false);
    assert_eq!(
        apply(go.clone()).await.1,
        json!({"matching": 1, "already": 0, "opened": 1})
    );
    assert_eq!(
        apply(go).await.1,
        json!({"matching": 1, "already": 1, "opened": 0})
    );
    // Delivered once, signed.
    let deliveries = got.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 1);
    let (sig, body) = &deliveries[0];
    assert_eq!(
        *sig,
        kohtaamo_app::jobs::sign("a-long-enough-secret", body.as_bytes())
    );
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["event"], "score_alert");
    assert_eq!(payload["alert"]["unit_id"], unit);
    assert_eq!(payload["rule"]["metric"], "nps");
    assert_eq!(payload["group"], "ordering");
    // In the app: the unit's alerts.
    let (_, list) = app
        .get(
            &format!("/api/v1/workspaces/w/alerts?unit_id={unit}"),
            &editor,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["rule_id"], below);
    let (s, _) = app
        .get("/api/v1/workspaces/w/alerts?unit_id=x", &editor)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A unit that a rule notifies cannot be deleted while the rule exists.
    let notified = app
        .create("w", "units", crate::helpers::unit("notified"))
        .await;
    let named = app
        .create(
            "w",
            "alert-rules",
            json!({"scope": "channel", "key": "web", "metric": "csat", "condition": "below", "threshold": 50, "unit_id": notified}),
        )
        .await;
    let (s, _) = app
        .delete(
            &format!("/api/v1/workspaces/w/units/{notified}"),
            &app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    app.delete(
        &format!("/api/v1/workspaces/w/alert-rules/{named}"),
        &app.admin,
    )
    .await;
    let (s, _) = app
        .delete(
            &format!("/api/v1/workspaces/w/units/{notified}"),
            &app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // Deleting a rule deletes its alerts.
    let (s, _) = app
        .delete(
            &format!("/api/v1/workspaces/w/alert-rules/{below}"),
            &editor,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/v1/workspaces/w/alerts", &editor).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}
