//! Privacy over HTTP: who may find, export and erase a person's data (privacy
//! officers and admins, nobody else), what is refused and why, an erasure previewed
//! and done, the ledger, the register, and the audit chain checked.

use kohtaamo_domain::model::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_privacy_officer_exports_and_erases_a_person_and_others_may_not() {
    let app = spawn_app().await;
    let ws = app.workspace("w").await;
    let viewer = app.member("viewer", ws, Role::Viewer).await;
    let editor = app.member("editor", ws, Role::Editor).await;
    let officer = app.member("officer", ws, Role::Privacy).await;
    let ops = app.create("w", "units", unit("ops")).await;
    let enc = |id: &str, customer: &str, text: &str| -> Value {
        json!({"id": id, "at": "2026-03-04T10:00:00Z", "channel": "phone", "owner": {"unit": ops},
               "kind": "contact", "customer": customer, "text": text})
    };
    let (s, b) = app
        .post(
            "/api/v1/workspaces/w/encounters",
            &app.admin,
            json!([
                enc("p-1", "crm:P-100", "Pekka kysyi palautuksesta"),
                enc("p-2", "crm:P-100", "Pekka soitti taas"),
                enc("q-1", "crm:Q-2", "Muu asiakas mainitsi numeron P-10000"),
            ]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let who = json!({"identifiers": ["crm:P-100"]});
    let base = "/api/v1/workspaces/w/privacy";

    // Neither a viewer nor an editor; a privacy officer may not edit the model.
    for token in [&viewer, &editor] {
        for path in ["export", "erase/preview", "erase"] {
            let (s, b) = app
                .post(&format!("{base}/{path}"), token, who.clone())
                .await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {b}");
        }
        for path in [
            format!("{base}/ledger"),
            "/api/v1/workspaces/w/audit/verify".into(),
            "/api/v1/workspaces/w/audit".into(),
        ] {
            let (s, _) = app.get(&path, token).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        }
    }
    let (s, _) = app
        .post("/api/v1/workspaces/w/units", &officer, unit("new"))
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a privacy officer is not an editor"
    );

    // What is refused, field by field.
    let (s, b) = app
        .post(&format!("{base}/export"), &officer, json!({}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["fields"]["identifiers"].is_string(), "{b}");
    let (s, b) = app
        .post(
            &format!("{base}/erase"),
            &officer,
            json!({"identifiers": ["email:not-an-address"], "names": ["Al"]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["fields"]["identifiers[0]"].is_string() && b["fields"]["names[0]"].is_string(),
        "{b}"
    );
    let (s, b) = app
        .post(
            &format!("{base}/erase"),
            &officer,
            json!({"identifiers": "crm:P-100"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a list is needed: {b}");
    assert!(b["error"].as_str().unwrap().contains("identifiers"), "{b}");

    let (s, b) = app
        .post(&format!("{base}/export"), &officer, who.clone())
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["found"], json!(true));
    assert_eq!(
        b["record"]["tables"]["encounters"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{b}"
    );
    assert_eq!(
        b["record"]["tables"]["customer_identifiers"][0]["ident"],
        json!("crm:P-100")
    );

    let (s, preview) = app
        .post(&format!("{base}/erase/preview"), &officer, who.clone())
        .await;
    assert_eq!(s, StatusCode::OK, "{preview}");
    assert_eq!(preview["counts"]["encounters"], json!(2));
    assert_eq!(preview["dry_run"], json!(true));
    assert_eq!(
        preview["review"][0]["table"],
        json!("encounters"),
        "Q-2's text names P-100: {preview}"
    );
    let (s, done) = app
        .post(&format!("{base}/erase"), &app.admin, who.clone())
        .await;
    assert_eq!(s, StatusCode::OK, "an admin may too: {done}");
    assert_eq!(done["counts"], preview["counts"]);
    assert!(done["ledger_id"].is_i64());
    let (_, again) = app
        .post(&format!("{base}/erase"), &officer, who.clone())
        .await;
    assert_eq!(again["counts"], json!({}), "idempotent: {again}");
    let (_, b) = app.post(&format!("{base}/export"), &officer, who).await;
    assert_eq!(b["found"], json!(false), "{b}");

    let (s, ledger) = app.get(&format!("{base}/ledger"), &officer).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ledger["items"].as_array().unwrap().len(), 1, "{ledger}");
    assert!(
        !ledger.to_string().contains("P-100"),
        "keyed hashes only: {ledger}"
    );

    let (s, audit) = app.get("/api/v1/workspaces/w/audit", &officer).await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    for a in ["privacy.export", "privacy.preview", "privacy.erase"] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
    assert!(!audit.to_string().contains("P-100"), "{audit}");
    let (s, check) = app.get("/api/v1/workspaces/w/audit/verify", &officer).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(check["ok"], json!(true), "{check}");
    assert_eq!(check["entries"].as_i64(), Some(actions.len() as i64));

    // The register: readable by every member.
    let (s, reg) = app.get(&format!("{base}/register"), &viewer).await;
    assert_eq!(s, StatusCode::OK);
    let responses = reg["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "responses")
        .unwrap();
    assert_eq!(responses["holds"], json!("customers"));
    assert!(responses["columns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["column"] == "answers" && c["holds"] == "free_text"));

    // Reading a person's timeline is in the audit trail too (never the identifier).
    let (s, _) = app
        .get("/api/v1/workspaces/w/customers/crm:Q-2/timeline", &editor)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, audit) = app.get("/api/v1/workspaces/w/audit", &officer).await;
    assert_eq!(audit[0]["action"], json!("record.read"), "{audit}");
    assert!(!audit.to_string().contains("Q-2"), "{audit}");

    // Retention: the defaults, a rule set, what is refused, the preview.
    let ret = "/api/v1/workspaces/w/privacy/retention";
    let (s, b) = app.get(ret, &viewer).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["default"] == json!(true)),
        "{b}"
    );
    let (s, _) = app.put(ret, &editor, json!([])).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = app
        .put(ret, &officer, json!([{"kind": "cases", "days": 30, "action": "anonymise"}, {"kind": "mail", "days": 99999, "action": "delete"}]))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["fields"]["[0].action"].is_string() && b["fields"]["[1].days"].is_string(),
        "{b}"
    );
    let (s, b) = app
        .put(
            ret,
            &officer,
            json!([{"kind": "encounters", "days": 1, "action": "anonymise"}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let enc_rule = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "encounters")
        .unwrap()
        .clone();
    assert_eq!(
        (enc_rule["days"].clone(), enc_rule["default"].clone()),
        (json!(1), json!(false))
    );
    let (s, b) = app.get(&format!("{ret}/preview"), &officer).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let enc_preview = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "encounters")
        .unwrap()
        .clone();
    assert_eq!(
        enc_preview["rows"],
        json!(1),
        "Q-2's encounter of March is past a day: {b}"
    );

    // Consent withdrawal and the records of processing.
    let (s, b) = app
        .post(
            &format!("{base}/withdraw"),
            &officer,
            json!({"identifiers": ["crm:Q-2"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["consents"], json!(0));
    let (s, _) = app
        .post(
            &format!("{base}/withdraw"),
            &editor,
            json!({"identifiers": ["crm:Q-2"]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, rec) = app.get(&format!("{base}/records"), &officer).await;
    assert_eq!(s, StatusCode::OK, "{rec}");
    let enc = rec["processing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "encounters")
        .unwrap();
    assert_eq!(enc["retention_days"], json!(1));
    assert!(enc["categories"]["free_text"]
        .as_array()
        .unwrap()
        .contains(&json!("encounters.text")));
    assert!(!enc["purpose"].as_str().unwrap().is_empty());
    let (s, _) = app.get(&format!("{base}/records"), &viewer).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The role can be given like any other.
    let (s, b) = app
        .put(
            "/api/v1/workspaces/w/members/viewer",
            &app.admin,
            json!({"role": "privacy"}),
        )
        .await;
    assert!(s.is_success(), "{b}");
    let (s, _) = app.get(&format!("{base}/ledger"), &viewer).await;
    assert_eq!(s, StatusCode::OK);
}
