//! The storage conformance suite: every test runs unchanged on SQLite and on
//! PostgreSQL, each on a fresh database.

use std::collections::BTreeMap;

use kohtaamo_domain::model::*;
use kohtaamo_domain::Id;
use kohtaamo_storage::testing::{fresh, TestDb};
use kohtaamo_storage::{Backend, ListQuery, Store, StoreError};

/// Declares `async fn name(store: Store)` once and generates `name::sqlite` and
/// `name::postgres` tests.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let (store, _db) = super::store(kohtaamo_storage::Backend::Sqlite).await;
                    super::$name(store).await;
                }
                #[tokio::test]
                async fn postgres() {
                    let (store, _db) = super::store(kohtaamo_storage::Backend::Postgres).await;
                    super::$name(store).await;
                }
            }
        )*
    };
}

async fn store(b: Backend) -> (Store, TestDb) {
    let db = fresh(b).await;
    let store = Store::connect(&db.url).await.expect("connect");
    (store, db)
}

fn t(en: &str) -> BTreeMap<String, String> {
    [("en".to_string(), en.to_string())].into()
}

async fn workspace(store: &Store, slug: &str) -> Id {
    let data = WorkspaceInput {
        slug: slug.into(),
        name: t(slug),
        default_language: "fi".into(),
    }
    .parse()
    .unwrap();
    store.create_workspace(&data, None).await.unwrap()
}

fn unit(slug: &str, parent: Option<Id>) -> UnitData {
    UnitInput {
        slug: slug.into(),
        name: t(slug),
        description: BTreeMap::new(),
        parent_id: parent,
    }
    .parse()
    .unwrap()
}

fn all() -> ListQuery {
    ListQuery {
        limit: 100,
        offset: 0,
        q: None,
        filters: vec![],
    }
}

fn field_errors(e: StoreError) -> BTreeMap<String, String> {
    match e {
        StoreError::Invalid(fe) => fe.0.into_iter().map(|(k, v)| (k, v.english())).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

conformance!(
    migrations_are_idempotent,
    unit_crud_and_conflicts,
    unit_tree_refuses_cycles,
    workspaces_are_isolated,
    tricky_strings_round_trip,
    ingest_group_commit_is_idempotent,
    rollups_stay_exact,
    optional_doubles_bind_null_then_values,
    alerts_open_follow_ups_with_them_once,
    statistics_follow_bulk_changes,
);

/// After many rows change, PostgreSQL's planner statistics are gathered again by the
/// product itself (autovacuum may be off or asleep); SQLite keeps none.
async fn statistics_follow_bulk_changes(store: Store) {
    let ws = workspace(&store, "w").await;
    for i in 0..120 {
        store
            .create(ws, &unit(&format!("u{i}"), None))
            .await
            .unwrap();
    }
    if store.backend() == Backend::Sqlite {
        assert_eq!(store.refresh_statistics().await.unwrap(), 0);
        return;
    }
    let analysed = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname = 'units' \
             AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
    };
    // The server counts changes a moment after each transaction ends.
    let mut done = 0;
    for _ in 0..50 {
        done += store.refresh_statistics().await.unwrap();
        if analysed().await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(analysed().await, 1, "units analysed");
    assert!(done >= 1);
    let stale: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_user_tables WHERE schemaname = current_schema() \
         AND n_mod_since_analyze > 50 + n_live_tup / 10",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(stale, 0, "nothing stale is left");
}

/// A score alert and the follow-ups it opens are stored in one transaction, once: a
/// second instance recording the same rule and period gets nothing and opens nothing;
/// the follow-ups say they came from the alert (the widened CHECK of migration 14).
async fn alerts_open_follow_ups_with_them_once(store: Store) {
    use kohtaamo_domain::alerts::{AlertRuleInput, Finding};
    use kohtaamo_storage::followups::NewFollowUp;
    let ws = workspace(&store, "w").await;
    let u = store.create(ws, &unit("ops", None)).await.unwrap();
    let rule = AlertRuleInput {
        scope: "unit".into(),
        key: u.id.to_string(),
        metric: "nps".into(),
        condition: "below".into(),
        threshold: Some(0.0),
        period_days: Some(7),
        unit_id: None,
    }
    .parse()
    .unwrap();
    let rule = store.create(ws, &rule).await.unwrap();
    let finding = Finding {
        value: -20.0,
        margin: 9.0,
        n: 48,
        previous: None,
    };
    let opens = |rule_id| NewFollowUp {
        rule_id: Some(rule_id),
        customer: None,
        case_ref: None,
        touchpoint_id: None,
        journey_id: None,
        unit_id: Some(u.id),
        partner_id: None,
        reason: "NPS −20 ± 9 (n = 48)".into(),
        may_contact: false,
        contact: None,
        contact_hours: 24,
        resolve_hours: 120,
    };
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    let both = [opens(5), opens(6)];
    let record = || store.record_alert(ws, rule.id, Some(u.id), (day(2), day(8)), &finding, &both);
    let (a, b) = tokio::join!(record(), record());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.is_some() as u8 + b.is_some() as u8, 1, "{a:?} {b:?}");
    let alert = a.or(b).unwrap();
    let keys = [format!("a{}:5", alert.id), format!("a{}:6", alert.id)];
    let opened = store.follow_ups_by_key(ws, &keys).await.unwrap();
    assert_eq!(opened.len(), 2);
    for f in &opened {
        assert_eq!(f.source, "alert");
        assert_eq!(f.alert_id, Some(alert.id));
        assert_eq!(f.created_at, alert.created_at);
        assert!(!f.may_contact);
    }
    assert_eq!(
        store.alerts_with_follow_up(ws, 5).await.unwrap(),
        vec![alert.id]
    );
    // Applied to the past: the one already opened is not opened again, a new rule's is.
    let at = kohtaamo_storage::now_text();
    let n = store
        .open_follow_ups_for_alerts(ws, &at, &[(alert.id, opens(5)), (alert.id, opens(7))])
        .await
        .unwrap();
    assert_eq!(n, 1);
    let period = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z");
    assert_eq!(store.alerts_raised(ws, period).await.unwrap(), vec![alert]);
}

/// A rule without a threshold, then one with: on PostgreSQL the second used to fail
/// ("incorrect binary data format in bind parameter 6") because the statement cached by
/// the first had a float4 parameter (a NULL double bound through sqlx's Any driver).
async fn optional_doubles_bind_null_then_values(store: Store) {
    use kohtaamo_domain::alerts::AlertRuleInput;
    let ws = workspace(&store, "w").await;
    let u = store.create(ws, &unit("ops", None)).await.unwrap();
    let rule = |condition: &str, threshold: Option<f64>| {
        AlertRuleInput {
            scope: "unit".into(),
            key: u.id.to_string(),
            metric: "nps".into(),
            condition: condition.into(),
            threshold,
            period_days: Some(7),
            unit_id: None,
        }
        .parse()
        .unwrap()
    };
    // Sequential writes take the pool's idle connections in turn; twenty of each
    // (the pool holds at most 16) make every connection that prepared the INSERT with
    // a NULL run it again with a value.
    for n in 0..20 {
        let drop = store.create(ws, &rule("drop", None)).await.unwrap();
        assert_eq!(drop.data.threshold, None, "{n}");
    }
    for n in 0..20 {
        let below = store.create(ws, &rule("below", Some(-12.5))).await.unwrap();
        assert_eq!(below.data.threshold, Some(-12.5), "{n}");
    }
}

async fn migrations_are_idempotent(store: Store) {
    // Every migration, in order (the number of distinct version prefixes of the files
    // is the latest version; a migration written per backend has two files).
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .map(|n| n[..4].to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .len() as i64;
    assert_eq!(
        kohtaamo_storage::migrate::applied(&store).await.unwrap(),
        (1..=files).collect::<Vec<_>>()
    );
    assert!(kohtaamo_storage::migrate::run(&store)
        .await
        .unwrap()
        .is_empty());
}

async fn unit_crud_and_conflicts(store: Store) {
    let ws = workspace(&store, "w").await;
    let ops = store.create(ws, &unit("ops", None)).await.unwrap();
    let cs = store.create(ws, &unit("cs", Some(ops.id))).await.unwrap();
    assert_eq!(cs.data.parent_id, Some(ops.id));
    assert!(matches!(
        store.create(ws, &unit("ops", None)).await,
        Err(StoreError::Conflict(_))
    ));

    let mut renamed = unit("customer-service", Some(ops.id));
    renamed.name = kohtaamo_domain::text::Texts::single("fi", "Asiakaspalvelu");
    let upd = store.update(ws, cs.id, &renamed).await.unwrap();
    assert_eq!(upd.data.slug.as_str(), "customer-service");
    assert_eq!(
        store.get::<UnitData>(ws, cs.id).await.unwrap().data,
        renamed
    );

    // A referenced unit cannot be deleted; its child can, then it can.
    assert!(matches!(
        store.delete::<UnitData>(ws, ops.id).await,
        Err(StoreError::Conflict(_))
    ));
    store.delete::<UnitData>(ws, cs.id).await.unwrap();
    store.delete::<UnitData>(ws, ops.id).await.unwrap();
    assert!(matches!(
        store.get::<UnitData>(ws, ops.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete::<UnitData>(ws, ops.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list::<UnitData>(ws, &all()).await.unwrap().total, 0);
}

async fn unit_tree_refuses_cycles(store: Store) {
    let ws = workspace(&store, "w").await;
    let a = store.create(ws, &unit("a", None)).await.unwrap();
    let b = store.create(ws, &unit("b", Some(a.id))).await.unwrap();
    let c = store.create(ws, &unit("c", Some(b.id))).await.unwrap();
    let e = field_errors(
        store
            .update(ws, a.id, &unit("a", Some(c.id)))
            .await
            .unwrap_err(),
    );
    assert!(e.contains_key("parent_id"), "{e:?}");
    let e = field_errors(
        store
            .update(ws, a.id, &unit("a", Some(a.id)))
            .await
            .unwrap_err(),
    );
    assert!(e.contains_key("parent_id"), "{e:?}");
    // Unchanged after the refusals.
    assert_eq!(
        store
            .get::<UnitData>(ws, a.id)
            .await
            .unwrap()
            .data
            .parent_id,
        None
    );
}

async fn workspaces_are_isolated(store: Store) {
    let a = workspace(&store, "a").await;
    let b = workspace(&store, "b").await;
    let ua = store.create(a, &unit("it", None)).await.unwrap();
    // Same slug in another workspace is fine.
    store.create(b, &unit("it", None)).await.unwrap();
    assert!(matches!(
        store.get::<UnitData>(b, ua.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.update(b, ua.id, &unit("x", None)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete::<UnitData>(b, ua.id).await,
        Err(StoreError::NotFound)
    ));
    // A reference to another workspace's record is refused as unknown.
    let e = field_errors(
        store
            .create(b, &unit("child", Some(ua.id)))
            .await
            .unwrap_err(),
    );
    assert!(e["parent_id"].contains("no unit"), "{e:?}");
    assert_eq!(store.list::<UnitData>(b, &all()).await.unwrap().total, 1);
    assert_eq!(
        store
            .get::<UnitData>(a, ua.id)
            .await
            .unwrap()
            .data
            .slug
            .as_str(),
        "it"
    );
}

async fn tricky_strings_round_trip(store: Store) {
    let ws = workspace(&store, "w").await;
    let nasty = "Robert'); DROP TABLE units;-- \"<script>alert(1)</script>\" <img src=x onerror=alert(1)> 🚆 ääkköset % _ \\";
    let mut u = unit("nasty", None);
    u.name = kohtaamo_domain::text::Texts::single("fi", nasty);
    let rec = store.create(ws, &u).await.unwrap();
    assert_eq!(
        store
            .get::<UnitData>(ws, rec.id)
            .await
            .unwrap()
            .data
            .name
            .get("fi", "fi"),
        Some(nasty)
    );
    // LIKE wildcards in a search are literal.
    let q = ListQuery {
        q: Some("% _".into()),
        ..all()
    };
    assert_eq!(store.list::<UnitData>(ws, &q).await.unwrap().total, 1);
    let q = ListQuery {
        q: Some("%x%".into()),
        ..all()
    };
    assert_eq!(store.list::<UnitData>(ws, &q).await.unwrap().total, 0);
}

conformance!(
    packages_roles_and_references,
    journeys_keep_order_and_cascade,
    relations_staleness_and_uniqueness,
    failed_writes_change_nothing,
    accounts_sessions_and_tokens,
    demo_model_round_trips,
    invalid_import_changes_nothing,
);

async fn element(store: &Store, ws: Id, slug: &str, owner: Option<Owner>) -> Id {
    let d = ElementInput {
        slug: slug.into(),
        name: t(slug),
        description: BTreeMap::new(),
        kind: "service".into(),
        customer_visible: true,
        has_it_components: false,
        owner,
    }
    .parse()
    .unwrap();
    store.create(ws, &d).await.unwrap().id
}

async fn packages_roles_and_references(store: Store) {
    let ws = workspace(&store, "w").await;
    let partner = store
        .create(
            ws,
            &PartnerInput {
                slug: "p".into(),
                name: t("P"),
                description: BTreeMap::new(),
                unit_id: None,
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap();
    let core = element(&store, ws, "core", Some(Owner::Partner(partner.id))).await;
    let cs = element(&store, ws, "cs", None).await;
    let pkg = |published, els: Vec<(Id, &str)>| {
        PackageInput {
            slug: "pkg".into(),
            name: t("Pkg"),
            description: BTreeMap::new(),
            published,
            elements: els
                .into_iter()
                .map(|(element_id, role)| PackageElementInput {
                    element_id,
                    role: role.into(),
                })
                .collect(),
        }
        .parse()
        .unwrap()
    };
    let e = field_errors(
        store
            .create(ws, &pkg(true, vec![(cs, "enabling")]))
            .await
            .unwrap_err(),
    );
    assert!(e.contains_key("published"));
    let p = store
        .create(ws, &pkg(true, vec![(core, "core"), (cs, "enabling")]))
        .await
        .unwrap();
    assert_eq!(p.data.elements.len(), 2);
    assert_eq!(p.data.elements[0].role, ElementRole::Core);
    // The element in use cannot be deleted; the partner owning an element neither.
    assert!(matches!(
        store.delete::<ElementData>(ws, core).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.delete::<PartnerData>(ws, partner.id).await,
        Err(StoreError::Conflict(_))
    ));
    // Deleting the package frees the elements.
    store.delete::<PackageData>(ws, p.id).await.unwrap();
    store.delete::<ElementData>(ws, core).await.unwrap();
}

async fn journeys_keep_order_and_cascade(store: Store) {
    let ws = workspace(&store, "w").await;
    let seg = store
        .create(
            ws,
            &SegmentInput {
                slug: "s".into(),
                name: t("S"),
                description: BTreeMap::new(),
                needs: None,
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap();
    let j = store
        .create(
            ws,
            &JourneyInput {
                slug: "j".into(),
                name: t("J"),
                description: BTreeMap::new(),
                segment_id: seg.id,
                package_ids: None,
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap();
    let stage = |slug: &str| {
        StageInput {
            slug: slug.into(),
            name: t(slug),
            description: BTreeMap::new(),
            journey_id: j.id,
        }
        .parse()
        .unwrap()
    };
    let a = store.create(ws, &stage("a")).await.unwrap();
    let b = store.create(ws, &stage("b")).await.unwrap();
    assert_eq!((a.position, b.position), (Some(1), Some(2)));
    let tp = |stage_id: Id, slug: &str| {
        TouchpointInput {
            stage_id,
            slug: slug.into(),
            name: t(slug),
            description: BTreeMap::new(),
            channel: "web".into(),
            owner: None,
            element_id: None,
            lane: "frontstage".into(),
            interface: None,
            emotion: 0,
            moment_of_truth: false,
            presence: None,
        }
        .parse()
        .unwrap()
    };
    let t1 = store.create(ws, &tp(a.id, "t1")).await.unwrap();
    let t2 = store.create(ws, &tp(a.id, "t2")).await.unwrap();
    let t3 = store.create(ws, &tp(b.id, "t3")).await.unwrap();
    assert_eq!(t2.position, Some(2));
    // Moving t1 to stage b puts it last there.
    let moved = store.update(ws, t1.id, &tp(b.id, "t1")).await.unwrap();
    assert_eq!(moved.position, Some(2));
    store
        .reorder::<TouchpointData>(ws, b.id, &[t1.id, t3.id])
        .await
        .unwrap();
    let q = ListQuery {
        filters: vec![("stage_id".into(), b.id.to_string())],
        ..all()
    };
    let order: Vec<Id> = store
        .list::<TouchpointData>(ws, &q)
        .await
        .unwrap()
        .items
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(order, vec![t1.id, t3.id]);
    assert!(matches!(
        store.reorder::<TouchpointData>(ws, b.id, &[t1.id]).await,
        Err(StoreError::Invalid(_))
    ));
    // A stage slug is unique within its journey only.
    assert!(matches!(
        store.create(ws, &stage("a")).await,
        Err(StoreError::Conflict(_))
    ));
    // Deleting the journey removes stages and touchpoints.
    store.delete::<JourneyData>(ws, j.id).await.unwrap();
    assert_eq!(store.list::<StageData>(ws, &all()).await.unwrap().total, 0);
    assert_eq!(
        store
            .list::<TouchpointData>(ws, &all())
            .await
            .unwrap()
            .total,
        0
    );
}

async fn relations_staleness_and_uniqueness(store: Store) {
    let ws = workspace(&store, "w").await;
    let it = store.create(ws, &unit("it", None)).await.unwrap().id;
    let cs = store.create(ws, &unit("cs", None)).await.unwrap().id;
    let rel = |last: Option<&str>| {
        RelationInput {
            provider: Provider::Unit(it),
            customer: Customer::Unit(cs),
            value_statement: t("v"),
            review_interval_days: 30,
            last_reviewed_on: last.map(String::from),
        }
        .parse()
        .unwrap()
    };
    let r = store.create(ws, &rel(None)).await.unwrap();
    assert!(matches!(
        store.create(ws, &rel(Some("2026-01-01"))).await,
        Err(StoreError::Conflict(_))
    ));
    let stale = |v: &str| ListQuery {
        filters: vec![("stale".into(), v.into())],
        ..all()
    };
    assert_eq!(
        store
            .list::<RelationData>(ws, &stale("true"))
            .await
            .unwrap()
            .total,
        1,
        "never reviewed is stale"
    );
    let today = kohtaamo_storage::today().to_string();
    store.update(ws, r.id, &rel(Some(&today))).await.unwrap();
    assert_eq!(
        store
            .list::<RelationData>(ws, &stale("true"))
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        store
            .list::<RelationData>(ws, &stale("false"))
            .await
            .unwrap()
            .total,
        1
    );
    assert!(matches!(
        store.list::<RelationData>(ws, &stale("maybe")).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn failed_writes_change_nothing(store: Store) {
    let ws = workspace(&store, "w").await;
    let cs = element(&store, ws, "cs", None).await;
    // A package whose second link is bad: neither the package nor the first link remain.
    let bad = PackageInput {
        slug: "pkg".into(),
        name: t("Pkg"),
        description: BTreeMap::new(),
        published: false,
        elements: vec![
            PackageElementInput {
                element_id: cs,
                role: "core".into(),
            },
            PackageElementInput {
                element_id: 424242,
                role: "enabling".into(),
            },
        ],
    }
    .parse()
    .unwrap();
    let e = field_errors(store.create(ws, &bad).await.unwrap_err());
    assert!(e.contains_key("elements[1]"), "{e:?}");
    assert_eq!(
        store.list::<PackageData>(ws, &all()).await.unwrap().total,
        0
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM package_elements")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

async fn accounts_sessions_and_tokens(store: Store) {
    assert!(store
        .ensure_admin(None)
        .await
        .unwrap()
        .is_some_and(|pw| pw.len() >= 20));
    assert!(
        store.ensure_admin(None).await.unwrap().is_none(),
        "only the first start creates the admin"
    );
    let id = store
        .create_user("bob", "bobs-password", false)
        .await
        .unwrap();
    assert!(matches!(
        store.create_user("bob", "bobs-password", false).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_user("Bob Smith", "x", false).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store
        .authenticate("bob", "wrong-password")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .authenticate("nobody", "bobs-password")
        .await
        .unwrap()
        .is_none());
    let bob = store
        .authenticate("bob", "bobs-password")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.id, id);
    // Hashes are argon2id, never the password.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("bobs-password"));

    let (session, csrf) = store
        .create_session(id, chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(store.session(&session).await.unwrap().unwrap().1, csrf);
    let (expired, _) = store
        .create_session(id, chrono::Duration::hours(-1))
        .await
        .unwrap();
    assert!(store.session(&expired).await.unwrap().is_none());
    let (_, before_reset) = store.create_token(id, "old").await.unwrap();
    assert!(store.token_user(&before_reset).await.unwrap().is_some());
    store.set_password("bob", "a-new-password").await.unwrap();
    assert!(
        store.session(&session).await.unwrap().is_none(),
        "a new password ends sessions"
    );
    assert!(
        store.token_user(&before_reset).await.unwrap().is_none(),
        "a new password ends API tokens made before it"
    );

    let (tid, token) = store.create_token(id, "ci").await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens WHERE id = $1")
        .bind(tid)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_ne!(stored, token, "tokens are stored hashed");
    assert_eq!(store.token_user(&token).await.unwrap().unwrap().id, id);
    let other = store
        .create_user("eve", "eves-password", false)
        .await
        .unwrap();
    assert!(
        matches!(
            store.revoke_token(other, tid).await,
            Err(StoreError::NotFound)
        ),
        "only the owner revokes"
    );
    store.revoke_token(id, tid).await.unwrap();
    assert!(store.token_user(&token).await.unwrap().is_none());

    let ws = workspace(&store, "w").await;
    assert_eq!(store.role_in(&bob, ws).await.unwrap(), None);
    store.set_member(ws, id, Role::Viewer).await.unwrap();
    assert_eq!(store.role_in(&bob, ws).await.unwrap(), Some(Role::Viewer));
    store.set_member(ws, id, Role::Editor).await.unwrap();
    assert_eq!(store.members(ws).await.unwrap().len(), 1);
    assert_eq!(store.workspaces_for(&bob).await.unwrap()[0].1, Role::Editor);

    // A token's user, workspace and role in one look-up.
    let (_, live) = store.create_token(id, "hot").await.unwrap();
    let (user, access) = store.token_access(&live, "w").await.unwrap().unwrap();
    assert_eq!((user.id, access), (id, Some((ws, Role::Editor))));
    let (user, access) = store.token_access(&live, "nowhere").await.unwrap().unwrap();
    assert_eq!((user.id, access), (id, None), "no such workspace");
    assert!(
        store.token_access(&token, "w").await.unwrap().is_none(),
        "revoked"
    );
    assert!(store
        .token_access("kt_unknown", "w")
        .await
        .unwrap()
        .is_none());
    let (_, eves) = store.create_token(other, "eve").await.unwrap();
    let (_, access) = store.token_access(&eves, "w").await.unwrap().unwrap();
    assert_eq!(access, None, "not a member");
    let root = store
        .create_user("root", "roots-password", true)
        .await
        .unwrap();
    let (_, roots) = store.create_token(root, "root").await.unwrap();
    let (_, access) = store.token_access(&roots, "w").await.unwrap().unwrap();
    assert_eq!(
        access,
        Some((ws, Role::Admin)),
        "a superadmin is admin everywhere"
    );
}

const DEMO: &str = include_str!("../../kohtaamo-app/demo/demo.yaml");

async fn demo_model_round_trips(store: Store) {
    let doc = kohtaamo_storage::model_io::parse_yaml(DEMO).unwrap();
    let r = store.import(&doc, false).await.unwrap();
    assert!(r.created > 50 && r.updated == 0, "{r:?}");
    let first = kohtaamo_storage::model_io::to_yaml(&store.export("demo").await.unwrap());
    // Importing the export changes nothing.
    let again = store
        .import(
            &kohtaamo_storage::model_io::parse_yaml(&first).unwrap(),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        (again.created, again.updated, again.deleted),
        (0, 0, 0),
        "{again:?}"
    );
    assert_eq!(
        kohtaamo_storage::model_io::to_yaml(&store.export("demo").await.unwrap()),
        first
    );
    // The demo has what the issue asks for.
    let ws = store.workspace_by_slug("demo").await.unwrap().unwrap().id;
    let pkg = store
        .list::<PackageData>(
            ws,
            &ListQuery {
                q: Some("henkiloliikenne".into()),
                ..all()
            },
        )
        .await
        .unwrap();
    let roles: Vec<ElementRole> = pkg.items[0].data.elements.iter().map(|e| e.role).collect();
    assert_eq!(roles.iter().filter(|r| **r == ElementRole::Core).count(), 1);
    assert!(roles.contains(&ElementRole::Enabling) && roles.contains(&ElementRole::Complementary));
    let stale = store
        .list::<RelationData>(
            ws,
            &ListQuery {
                filters: vec![("stale".into(), "true".into())],
                ..all()
            },
        )
        .await
        .unwrap();
    assert!(stale.total >= 2);
}

async fn invalid_import_changes_nothing(store: Store) {
    let doc = kohtaamo_storage::model_io::parse_yaml(DEMO).unwrap();
    store.import(&doc, false).await.unwrap();
    let before = kohtaamo_storage::model_io::to_yaml(&store.export("demo").await.unwrap());
    let mut bad = doc.clone();
    bad.units[0].name.clear();
    bad.journeys[0].stages[0].touchpoints[0].lane = "sideways".into();
    let e = field_errors(store.import(&bad, true).await.unwrap_err());
    assert!(
        e.contains_key("units[0].name")
            && e.contains_key("journeys[0].stages[0].touchpoints[0].lane"),
        "{e:?}"
    );
    assert_eq!(
        kohtaamo_storage::model_io::to_yaml(&store.export("demo").await.unwrap()),
        before
    );
}

conformance!(review_history_and_notifications);

async fn review_history_and_notifications(store: Store) {
    let ws = workspace(&store, "w").await;
    let it = store.create(ws, &unit("it", None)).await.unwrap().id;
    let cs = store.create(ws, &unit("cs", None)).await.unwrap().id;
    let bob = store
        .create_user("bob", "bobs-password", false)
        .await
        .unwrap();
    let rel = RelationInput {
        provider: Provider::Unit(it),
        customer: Customer::Unit(cs),
        value_statement: t("v"),
        review_interval_days: 30,
        last_reviewed_on: Some("2020-01-01".into()),
    }
    .parse()
    .unwrap();
    let r = store.create(ws, &rel).await.unwrap();
    // Due: one notification to IT, however often the job runs — also when two runs
    // race on separate connections (as two instances would).
    let today = kohtaamo_storage::today();
    let (a, b) = tokio::join!(store.run_review_cycle(today), store.run_review_cycle(today));
    let created = a.unwrap().len() + b.unwrap().len();
    assert_eq!(created, 1);
    assert!(store.run_review_cycle(today).await.unwrap().is_empty());
    let n = store.notifications(ws, Some(it)).await.unwrap();
    assert_eq!(
        (n.len(), n[0].relation_id, n[0].kind.as_str()),
        (1, r.id, "review_due")
    );
    assert!(store.notifications(ws, Some(cs)).await.unwrap().is_empty());
    // Reviewing records who and when and ends the due state.
    let done = store
        .mark_reviewed(ws, r.id, Some(bob), today)
        .await
        .unwrap();
    assert_eq!(done.data.last_reviewed_on, Some(today));
    let history = store.reviews(ws, r.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].username.as_deref(), Some("bob"));
    assert_eq!(history[0].reviewed_on, today.to_string());
    assert!(store.run_review_cycle(today).await.unwrap().is_empty());
    // Webhooks validate their address and secret.
    assert!(matches!(
        store.add_webhook(ws, "ftp://x", "short", &[]).await,
        Err(StoreError::Invalid(_))
    ));
    let h = store
        .add_webhook(ws, "http://127.0.0.1:9/hook", "a-long-enough-secret", &[])
        .await
        .unwrap();
    assert_eq!(store.webhooks(ws).await.unwrap()[0].id, h);
    store.delete_webhook(ws, h).await.unwrap();
    assert!(matches!(
        store.delete_webhook(ws, h).await,
        Err(StoreError::NotFound)
    ));
}

/// Many concurrent submissions through the group-commit writer: every response is
/// stored exactly once, repeated ids in one batch are handled in order, a partial save
/// is completed, and a complete one is final.
async fn ingest_group_commit_is_idempotent(store: Store) {
    use kohtaamo_domain::survey::{Answer, Answers, Hidden, ResponseKey, Scores, SurveyInput};
    use kohtaamo_storage::feedback::{Ingest, NewResponse, Stored};
    let ws = workspace(&store, "w").await;
    let survey: SurveyInput = serde_json::from_value(serde_json::json!({
        "slug": "s", "name": {"en": "S"}, "status": "active", "package_id": 0,
        "questions": [{"key": "nps", "kind": "nps"}]
    }))
    .unwrap();
    let pkg = store
        .create(
            ws,
            &PackageInput {
                slug: "p".into(),
                name: t("P"),
                description: BTreeMap::new(),
                published: false,
                elements: vec![],
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap();
    let survey = SurveyInput {
        package_id: Some(pkg.id),
        ..survey
    }
    .parse()
    .unwrap();
    let sid = store.create(ws, &survey).await.unwrap().id;
    let ingest = Ingest::start(store.clone(), 256);
    let resp = |key: &str, nps: i64, complete: bool| NewResponse {
        workspace_id: ws,
        survey_id: sid,
        key: ResponseKey::parse(key).unwrap(),
        hidden: Hidden::default(),
        answers: Answers([("nps".to_string(), Answer::Score(nps))].into()),
        scores: Scores {
            nps: Some(nps),
            ..Default::default()
        },
        complete,
        invitation: None,
        at: None,
        suspect: None,
        // As a rule "NPS ≤ 3" would: a follow-up with each low answer.
        follow_ups: (nps <= 3)
            .then(|| kohtaamo_storage::followups::NewFollowUp {
                rule_id: Some(1),
                customer: None,
                case_ref: None,
                touchpoint_id: None,
                journey_id: None,
                unit_id: None,
                partner_id: None,
                reason: format!("NPS {nps}"),
                may_contact: false,
                contact: None,
                contact_hours: 24,
                resolve_hours: 120,
            })
            .into_iter()
            .collect(),
        // Every even score comes with a contact consent.
        consent: (nps % 2 == 0).then(|| kohtaamo_storage::privacy::NewConsent {
            purpose: "contact-about-feedback",
            subject: None,
            contact: Some(format!("{key}@example.fi")),
            text: "Saako sinuun ottaa yhteyttä?".into(),
            language: Some("fi".into()),
            channel: "survey",
            source: format!("response:{sid}:{key}"),
        }),
    };
    let mut tasks = Vec::new();
    for i in 0..400 {
        let ingest = ingest.clone();
        // 400 distinct ids, each sent twice at once.
        let r = resp(
            &format!("key-{:05}", i % 200 + (i / 400) * 1000),
            (i % 11) as i64,
            true,
        );
        tasks.push(tokio::spawn(async move { ingest.response(r).await }));
    }
    let mut written = 0;
    let mut dup = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Stored::Written => written += 1,
            Stored::Duplicate => dup += 1,
            Stored::InvitationUsed => panic!("no invitations here"),
        }
    }
    assert_eq!((written, dup), (200, 200));
    let keys = store.response_keys(sid).await.unwrap();
    assert_eq!(keys.len(), 200);
    // One follow-up per stored low answer, in the same transactions: none lost, none
    // twice although every id came twice.
    let low = |store: &Store| {
        let store = store.clone();
        async move {
            let page = store
                .responses(
                    ws,
                    Some(sid),
                    &kohtaamo_storage::feedback::ResponseFilter::default(),
                    500,
                    0,
                )
                .await
                .unwrap();
            page.items
                .iter()
                .filter(|r| r.nps.is_some_and(|n| n <= 3))
                .count()
        }
    };
    let opened = store
        .follow_ups(
            ws,
            &kohtaamo_storage::followups::FollowUpFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(opened.len(), low(&store).await);
    assert!(!opened.is_empty());
    let mut opened_keys: Vec<_> = opened.iter().map(|f| f.response_key.clone()).collect();
    opened_keys.sort();
    opened_keys.dedup();
    assert_eq!(opened_keys.len(), opened.len());
    // One consent per stored answer that gave one, also through the writer.
    let consents: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM consents WHERE workspace_id = $1 AND version = $2",
    )
    .bind(ws)
    .bind(kohtaamo_domain::privacy::consent_version(
        "Saako sinuun ottaa yhteyttä?",
    ))
    .fetch_one(store.pool())
    .await
    .unwrap();
    let even = {
        let page = store
            .responses(
                ws,
                Some(sid),
                &kohtaamo_storage::feedback::ResponseFilter::default(),
                500,
                0,
            )
            .await
            .unwrap();
        page.items
            .iter()
            .filter(|r| r.nps.is_some_and(|n| n % 2 == 0))
            .count() as i64
    };
    assert_eq!(consents, even);
    assert!(even > 0);
    // Partial, then complete, then a late partial that must not win.
    assert_eq!(
        ingest.response(resp("partial-1", 3, false)).await.unwrap(),
        Stored::Written
    );
    assert_eq!(
        ingest.response(resp("partial-1", 4, true)).await.unwrap(),
        Stored::Written
    );
    assert_eq!(
        ingest.response(resp("partial-1", 9, false)).await.unwrap(),
        Stored::Duplicate
    );
    let page = store
        .responses(
            ws,
            Some(sid),
            &kohtaamo_storage::feedback::ResponseFilter {
                q: None,
                ..Default::default()
            },
            500,
            0,
        )
        .await
        .unwrap();
    let p = page
        .items
        .iter()
        .find(|r| r.response_key == "partial-1")
        .unwrap();
    assert_eq!((p.nps, p.complete), (Some(4), true));
    // A survey with responses cannot be deleted (answers are never lost by accident).
    assert!(matches!(
        store
            .delete::<kohtaamo_domain::survey::SurveyData>(ws, sid)
            .await,
        Err(StoreError::Conflict(_))
    ));
}

/// An active survey with `questions` about a fresh package of workspace `ws`.
async fn package_survey(store: &Store, ws: Id, questions: serde_json::Value) -> Id {
    use kohtaamo_domain::survey::SurveyInput;
    let pkg = store
        .create(
            ws,
            &PackageInput {
                slug: "p".into(),
                name: t("P"),
                description: BTreeMap::new(),
                published: false,
                elements: vec![],
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap();
    let survey: SurveyInput = serde_json::from_value(serde_json::json!({
        "slug": "s", "name": {"en": "S"}, "status": "active", "package_id": pkg.id,
        "questions": questions
    }))
    .unwrap();
    store.create(ws, &survey.parse().unwrap()).await.unwrap().id
}

/// Rollups equal a recomputation from the responses after concurrent ingest with
/// duplicates, partial saves completed later, abandoned partials, and deletions.
async fn rollups_stay_exact(store: Store) {
    use kohtaamo_domain::survey::{Answer, Answers, Hidden, ResponseKey, Scores};
    use kohtaamo_storage::feedback::{Ingest, NewResponse};
    let ws = workspace(&store, "w").await;
    let sid = package_survey(&store, ws, serde_json::json!([{"key": "nps", "kind": "nps"}, {"key": "csat", "kind": "csat"}, {"key": "ces", "kind": "ces"}])).await;
    let ingest = Ingest::start(store.clone(), 64);
    let mut seed = 12345u64;
    let mut next = move |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let mut tasks = Vec::new();
    for i in 0..600u64 {
        let nps = next(11) as i64;
        let csat = (next(3) > 0).then(|| 1 + next(5) as i64);
        let ces = (next(2) > 0).then(|| 1 + next(7) as i64);
        let key = format!("key-{:05}", next(400)); // duplicates on purpose
        let complete = next(5) > 0;
        let mut answers = BTreeMap::from([("nps".to_string(), Answer::Score(nps))]);
        if let Some(c) = csat {
            answers.insert("csat".into(), Answer::Score(c));
        }
        if let Some(c) = ces {
            answers.insert("ces".into(), Answer::Score(c));
        }
        let r = NewResponse {
            workspace_id: ws,
            survey_id: sid,
            key: ResponseKey::parse(&key).unwrap(),
            hidden: Hidden {
                channel: Some(["web", "email"][(i % 2) as usize].into()),
                locale: kohtaamo_domain::text::Lang::parse(["fi", "en", "sv"][(i % 3) as usize])
                    .ok(),
                ..Default::default()
            },
            answers: Answers(answers),
            scores: Scores {
                nps: Some(nps),
                csat,
                ces,
            },
            complete,
            invitation: None,
            at: Some(format!("2026-0{}-1{}T10:00:00Z", 1 + i % 3, i % 10)),
            suspect: None,
            follow_ups: vec![],
            consent: None,
        };
        let ingest = ingest.clone();
        tasks.push(tokio::spawn(
            async move { ingest.response(r).await.unwrap() },
        ));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let page = store
        .responses(
            ws,
            Some(sid),
            &kohtaamo_storage::feedback::ResponseFilter::default(),
            500,
            0,
        )
        .await
        .unwrap();
    for r in page.items.iter().step_by(7) {
        store.delete_response(ws, sid, r.id, None).await.unwrap();
    }
    let from = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let to = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    let mut from_rollups: BTreeMap<(String, String, String), kohtaamo_domain::analytics::Tally> =
        BTreeMap::new();
    for r in store
        .tallies(
            ws,
            from,
            to,
            kohtaamo_storage::feedback::TallyBy::GroupAndDay,
        )
        .await
        .unwrap()
    {
        if r.tally != Default::default() {
            *from_rollups
                .entry((r.day, r.channel, r.locale))
                .or_default() += r.tally;
        }
    }
    let mut recomputed: BTreeMap<(String, String, String), kohtaamo_domain::analytics::Tally> =
        BTreeMap::new();
    let rest = store
        .responses(
            ws,
            Some(sid),
            &kohtaamo_storage::feedback::ResponseFilter {
                complete: Some(true),
                ..Default::default()
            },
            500,
            0,
        )
        .await
        .unwrap();
    assert!(rest.total > 100, "a real sample: {}", rest.total);
    for r in rest.items {
        *recomputed
            .entry((
                r.created_at[..10].to_string(),
                r.channel.unwrap_or_default(),
                r.locale.unwrap_or_default(),
            ))
            .or_default() += kohtaamo_domain::analytics::Tally::of(r.nps, r.csat, r.ces);
    }
    assert_eq!(from_rollups, recomputed);
}

/// Two writers (two server instances on one PostgreSQL database) storing the same
/// response ids in opposite orders at once: before rows were locked in key order, this
/// deadlocked (PostgreSQL aborts one transaction with 40P01). SQLite serialises
/// writers, so there it simply holds.
async fn overlapping_batches_do_not_deadlock(store: Store) {
    use kohtaamo_domain::survey::{Answer, Answers, Hidden, ResponseKey, Scores};
    use kohtaamo_storage::feedback::{write_batch, NewResponse};
    let ws = workspace(&store, "w").await;
    let sid = package_survey(
        &store,
        ws,
        serde_json::json!([{"key": "nps", "kind": "nps"}]),
    )
    .await;
    let resp = |key: String| NewResponse {
        workspace_id: ws,
        survey_id: sid,
        key: ResponseKey::parse(&key).unwrap(),
        hidden: Hidden::default(),
        answers: Answers([("nps".to_string(), Answer::Score(7))].into()),
        scores: Scores {
            nps: Some(7),
            ..Default::default()
        },
        complete: true,
        invitation: None,
        at: None,
        suspect: None,
        follow_ups: vec![],
        consent: None,
    };
    let mut total = 0;
    for round in 0..15 {
        let forward: Vec<NewResponse> = (0..300)
            .map(|i| resp(format!("r{round:02}-{i:04}")))
            .collect();
        let backward: Vec<NewResponse> = (0..300)
            .rev()
            .map(|i| resp(format!("r{round:02}-{i:04}")))
            .collect();
        let a: Vec<&NewResponse> = forward.iter().collect();
        let b: Vec<&NewResponse> = backward.iter().collect();
        let (ra, rb) = tokio::join!(write_batch(&store, &a, &[]), write_batch(&store, &b, &[]));
        let (ra, rb) = (ra.expect("writer A"), rb.expect("writer B"));
        // Each id written exactly once between the two.
        let written = ra
            .iter()
            .chain(&rb)
            .filter(|s| **s == kohtaamo_storage::feedback::Stored::Written)
            .count();
        assert_eq!(written, 300, "round {round}");
        total += 300;
    }
    assert_eq!(store.response_keys(sid).await.unwrap().len(), total);
}

conformance!(overlapping_batches_do_not_deadlock);

conformance!(encounters_are_idempotent_and_customers_link);

fn encounter(
    client: &str,
    at: &str,
    customer: Option<&str>,
) -> kohtaamo_storage::encounters::NewEncounter {
    kohtaamo_storage::encounters::NewEncounter {
        client_id: client.into(),
        occurred_at: at.into(),
        touchpoint_id: None,
        touchpoint_name: None,
        stage_id: None,
        journey_id: None,
        channel: "phone".into(),
        owner: None,
        owner_name: None,
        customer: customer.map(str::to_owned),
        case_ref: Some("K-1".into()),
        kind: "contact".into(),
        text: Some("Soitti myöhästyneestä laukusta".into()),
        attributes: [("flight".to_string(), "AY 123".to_string())].into(),
        source: "api",
        recorded_by: "user:admin".into(),
        capture: None,
    }
}

async fn encounters_are_idempotent_and_customers_link(store: Store) {
    use kohtaamo_storage::encounters::{EncounterFilter, NewCapture};
    let ws = workspace(&store, "w").await;
    let other = workspace(&store, "other").await;
    let batch = vec![
        encounter("b", "2026-01-02T10:00:00Z", Some("crm:1")),
        encounter("a", "2026-01-01T10:00:00Z", Some("crm:1")),
        encounter("c", "2026-01-03T10:00:00Z", Some("crm:2")),
    ];
    let first = store.record_encounters(ws, &batch).await.unwrap();
    assert!(first.iter().all(|r| r.created));
    // A retry stores nothing twice and answers the same ids, in the batch's order.
    let again = store.record_encounters(ws, &batch).await.unwrap();
    assert_eq!(
        again.iter().map(|r| (r.id, r.created)).collect::<Vec<_>>(),
        first.iter().map(|r| (r.id, false)).collect::<Vec<_>>()
    );
    // The same client id in another workspace is another encounter.
    let elsewhere = store.record_encounters(other, &batch[..1]).await.unwrap();
    assert!(elsewhere[0].created);
    let all = store
        .encounters(
            ws,
            &EncounterFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        all.iter().map(|e| e.client_id.as_str()).collect::<Vec<_>>(),
        ["c", "b", "a"],
        "newest first"
    );
    assert_eq!(all[2].attributes["flight"], "AY 123");
    assert_eq!(
        all[2].text.as_deref(),
        Some("Soitti myöhästyneestä laukusta")
    );
    let c1 = store.customer_by_ident(ws, "crm:1").await.unwrap().unwrap();
    let c2 = store.customer_by_ident(ws, "crm:2").await.unwrap().unwrap();
    assert_ne!(c1, c2);
    assert_eq!(store.customer_by_ident(other, "crm:2").await.unwrap(), None);
    let mine = |cs: Vec<Id>| EncounterFilter {
        customers: Some(cs),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        store.encounters(ws, &mine(vec![c1])).await.unwrap().len(),
        2
    );
    // Pages: newest first from a cursor.
    let page2 = store
        .encounters(
            ws,
            &EncounterFilter {
                before: Some((all[0].at.clone(), all[0].id)),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page2[0].client_id, "b");
    // Linking gathers both customers; unlinking restores them; a second link is the same.
    let (link, created) = store
        .link_customers(ws, c2, c1, "same loyalty card", "user:admin")
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        store
            .link_customers(ws, c1, c2, "again", "user:admin")
            .await
            .unwrap(),
        (link, false)
    );
    let group = store.customer_group(ws, c1).await.unwrap();
    assert_eq!(group, {
        let mut g = vec![c1, c2];
        g.sort();
        g
    });
    assert_eq!(store.encounters(ws, &mine(group)).await.unwrap().len(), 3);
    let undone = store
        .unlink_customers(ws, link, "user:editor")
        .await
        .unwrap();
    assert_eq!(undone.unlinked_by.as_deref(), Some("user:editor"));
    assert_eq!(store.customer_group(ws, c1).await.unwrap(), vec![c1]);
    assert_eq!(
        store.customer_links(ws, &[c1]).await.unwrap().len(),
        1,
        "the record stays"
    );
    // Captures and themes: a merge moves captures in one go.
    let coffee = store
        .create_capture_theme(
            ws,
            "coffee",
            &kohtaamo_domain::text::Texts::single("en", "Coffee"),
            None,
        )
        .await
        .unwrap();
    let kahvi = store
        .create_capture_theme(
            ws,
            "kahvi",
            &kohtaamo_domain::text::Texts::single("fi", "Kahvi"),
            Some("user:staff"),
        )
        .await
        .unwrap();
    let mut cap = encounter("cap-1", "2026-01-04T10:00:00Z", None);
    cap.kind = "capture".into();
    cap.source = "staff";
    cap.capture = Some(NewCapture {
        follow_up: None,
        words: "quote",
        theme_id: Some(kahvi),
        feeling: -1,
        needs_follow_up: true,
        promise: Some("Call back".into()),
        promise_due: Some("2026-01-05".into()),
    });
    store.record_encounters(ws, &[cap.clone()]).await.unwrap();
    store.record_encounters(ws, &[cap]).await.unwrap();
    let caps = store
        .encounters(
            ws,
            &EncounterFilter {
                captures_only: true,
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(caps.len(), 1);
    let c = caps[0].capture.clone().unwrap();
    assert_eq!(
        (c.words.as_str(), c.theme_id, c.feeling, c.needs_follow_up),
        ("quote", Some(kahvi), -1, true)
    );
    let themes = store.capture_themes(ws).await.unwrap();
    assert_eq!(
        themes
            .iter()
            .map(|t| (t.slug.as_str(), t.status.as_str(), t.captures))
            .collect::<Vec<_>>(),
        [("coffee", "accepted", 0), ("kahvi", "proposed", 1)]
    );
    assert_eq!(
        store.merge_capture_theme(ws, kahvi, coffee).await.unwrap(),
        1
    );
    let themes = store.capture_themes(ws).await.unwrap();
    assert_eq!(
        themes
            .iter()
            .map(|t| (t.slug.as_str(), t.captures))
            .collect::<Vec<_>>(),
        [("coffee", 1)]
    );
    assert!(matches!(
        store.merge_capture_theme(ws, kahvi, coffee).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .create_capture_theme(
                ws,
                "coffee",
                &kohtaamo_domain::text::Texts::single("en", "C"),
                None
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
}

conformance!(encounters_group_commit_through_the_writer);

/// Single encounters posted at once share the writer's commits with responses; every
/// one is stored once, a retry in the same or a later batch answers the same id, and
/// the customers they name are created once.
async fn encounters_group_commit_through_the_writer(store: Store) {
    use kohtaamo_storage::encounters::EncounterFilter;
    let ws = workspace(&store, "w").await;
    let ingest = kohtaamo_storage::feedback::Ingest::start(store.clone(), 64);
    let mut tasks = Vec::new();
    for i in 0..300 {
        // 150 distinct client ids, each sent twice at once; 30 customers.
        let e = encounter(
            &format!("e-{:04}", i % 150),
            &format!("2026-02-01T10:{:02}:00Z", i % 60),
            Some(&format!("crm:{}", i % 30)),
        );
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.record_encounters(ws, &[e]).await
        }));
    }
    let mut ids: std::collections::HashMap<String, Vec<(Id, bool)>> = Default::default();
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap().unwrap();
        assert_eq!(r.len(), 1);
        ids.entry(format!("e-{:04}", i % 150))
            .or_default()
            .push((r[0].id, r[0].created));
    }
    for (client, outcomes) in &ids {
        assert_eq!(outcomes.len(), 2, "{client}");
        assert_eq!(outcomes[0].0, outcomes[1].0, "one id for {client}");
        assert_eq!(
            outcomes.iter().filter(|o| o.1).count(),
            1,
            "created once: {client}"
        );
    }
    let all = store
        .encounters(
            ws,
            &EncounterFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 150);
    let customers: std::collections::HashSet<Id> =
        all.iter().filter_map(|e| e.customer_id).collect();
    assert_eq!(customers.len(), 30);
    // One batch with a retry of an earlier one.
    let r = store
        .record_encounters(
            ws,
            &[
                encounter("e-0000", "2026-02-01T10:00:00Z", Some("crm:0")),
                encounter("e-new", "2026-02-02T10:00:00Z", Some("crm:99")),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r[0].id, ids["e-0000"][0].0);
    assert!(!r[0].created);
    assert!(r[1].created);
    drop(ingest);
}

conformance!(encounter_rollups_count_each_encounter_once);

/// Encounters per touchpoint and day are kept in the recording transaction (a retry
/// adds nothing), and a stage's distinct customers are counted in a period.
async fn encounter_rollups_count_each_encounter_once(store: Store) {
    let ws = workspace(&store, "w").await;
    let at = |client: &str, day: &str, customer: &str, tp: i64| {
        let mut e = encounter(client, &format!("{day}T09:00:00Z"), Some(customer));
        e.touchpoint_id = Some(tp);
        e.stage_id = Some(100 + tp);
        e
    };
    let batch = vec![
        at("a", "2026-03-01", "crm:1", 7),
        at("b", "2026-03-01", "crm:1", 7),
        at("c", "2026-03-02", "crm:2", 7),
        at("d", "2026-03-02", "crm:2", 8),
        at("e", "2026-03-05", "crm:3", 8),
    ];
    store.record_encounters(ws, &batch).await.unwrap();
    store.record_encounters(ws, &batch[..2]).await.unwrap();
    let all = store
        .encounter_counts(ws, "2026-03-01", "2026-03-31")
        .await
        .unwrap();
    assert_eq!((all[&7], all[&8]), (3, 2));
    let first_two = store
        .encounter_counts(ws, "2026-03-01", "2026-03-02")
        .await
        .unwrap();
    assert_eq!((first_two[&7], first_two[&8]), (3, 1));
    let customers = store
        .stage_customers(ws, "2026-03-01", "2026-03-02")
        .await
        .unwrap();
    assert_eq!((customers[&107], customers[&108]), (2, 1));
    let later = store
        .stage_customers(ws, "2026-03-03", "2026-03-05")
        .await
        .unwrap();
    assert_eq!(later.get(&107), None);
    assert_eq!(later[&108], 1);
}

conformance!(follow_up_clocks_escalation_and_the_mail_queue);

/// Follow-ups' storage on both backends: opened once per key, clocks paused while
/// waiting and re-timed by a rule's new targets, each escalation step taken once with
/// its e-mail queued in the same transaction, mail claimed once (a lease), retried
/// after a backoff and marked sent with an audit entry, and a poor recovery answer
/// reopening a closed one.
async fn follow_up_clocks_escalation_and_the_mail_queue(store: Store) {
    use kohtaamo_domain::followups::{Action, Clock, Status, Step};
    use kohtaamo_storage::followups::{Act, Escalation, NewFollowUp, RecoveryOutcome};
    use kohtaamo_storage::mail::NewMail;
    let ws = workspace(&store, "w").await;
    let t = |h: i64| {
        kohtaamo_storage::time_text(
            chrono::DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc)
                + chrono::Duration::hours(h),
        )
    };
    let new = NewFollowUp {
        rule_id: Some(7),
        customer: Some("crm:1".into()),
        case_ref: None,
        touchpoint_id: None,
        journey_id: None,
        unit_id: None,
        partner_id: None,
        reason: "NPS 2 ≤ 6".into(),
        may_contact: true,
        contact: Some("liisa@example.fi".into()),
        contact_hours: 24,
        resolve_hours: 120,
    };
    let items = vec![(1, "resp-1".to_string(), t(0), new)];
    assert_eq!(
        store
            .open_follow_ups_for_responses(ws, &items)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .open_follow_ups_for_responses(ws, &items)
            .await
            .unwrap(),
        0,
        "never twice"
    );
    let f = store
        .follow_ups_by_key(ws, &["r7:1:resp-1".to_string()])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (f.contact_due.clone(), f.resolve_due.clone()),
        (t(24), t(120))
    );
    let act = |action, h| Act {
        action,
        assignee_id: None,
        root_cause: Some("process".into()),
        action_taken: Some("Fixed".into()),
        note: None,
        by: "user:a".into(),
        at: t(h),
        mails: vec![],
    };
    // Waiting 5 h moves both running clocks by 5 h; a rule's new targets keep it.
    store
        .act_on_follow_up(ws, f.id, &act(Action::Wait, 2), &["process"])
        .await
        .unwrap();
    let f2 = store
        .act_on_follow_up(ws, f.id, &act(Action::Resume, 7), &["process"])
        .await
        .unwrap();
    assert_eq!(
        (
            f2.paused_seconds,
            f2.contact_due.clone(),
            f2.resolve_due.clone()
        ),
        (5 * 3600, t(29), t(125))
    );
    assert_eq!(store.retime_follow_ups(ws, 7, 48, 200).await.unwrap(), 1);
    let f3 = store.follow_up(ws, f.id).await.unwrap();
    assert_eq!(
        (f3.contact_due.clone(), f3.resolve_due.clone()),
        (t(53), t(205))
    );
    // Overdue at 54 h; the first step taken once, its e-mail queued with it.
    assert!(store
        .overdue_follow_ups(&t(52), 0, 10)
        .await
        .unwrap()
        .is_empty());
    let overdue = store.overdue_follow_ups(&t(54), 0, 10).await.unwrap();
    assert_eq!(overdue.len(), 1);
    assert!(overdue[0].done.is_empty());
    let step = Escalation {
        clock: Clock::Contact,
        step: Step::Assignee,
        told: "anna".into(),
        mails: vec![NewMail {
            unsubscribe: None,
            dedupe: format!("esc:{}:contact:1:9", f.id),
            kind: "follow-up-escalation".into(),
            to: "anna@example.fi".into(),
            subject: "Jatkotoimi".into(),
            body: "Avaa se".into(),
        }],
        at: t(54),
    };
    let (a, b) = tokio::join!(
        store.escalate_follow_up(ws, f.id, &step),
        store.escalate_follow_up(ws, f.id, &step)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one took the step");
    let again = store.overdue_follow_ups(&t(54), 0, 10).await.unwrap();
    assert_eq!(again[0].done, vec![(Clock::Contact, Step::Assignee)]);
    let events = store.follow_up_events(ws, f.id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == Action::Escalate)
            .count(),
        1
    );
    assert_eq!(events.last().unwrap().detail, "contact:assignee:anna");
    // The queue: claimed once by two passes at once; a failure waits for its backoff.
    let now = chrono::DateTime::parse_from_rfc3339(&t(55))
        .unwrap()
        .with_timezone(&chrono::Utc);
    let (x, y) = tokio::join!(store.claim_mail(now, 10), store.claim_mail(now, 10));
    let claimed: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    assert_eq!(claimed.len(), 1, "one message, claimed once");
    assert_eq!(claimed[0].attempts, 1);
    assert!(
        store.claim_mail(now, 10).await.unwrap().is_empty(),
        "leased"
    );
    store
        .mail_not_sent(&claimed[0], "SMTP: connection refused", now)
        .await
        .unwrap();
    assert!(
        store
            .claim_mail(now + chrono::Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty(),
        "backoff"
    );
    let retry = store
        .claim_mail(now + chrono::Duration::seconds(61), 10)
        .await
        .unwrap();
    assert_eq!(retry[0].attempts, 2);
    store.mail_sent(&retry[0], &t(56)).await.unwrap();
    let q = store.mail_of(ws, 10).await.unwrap();
    assert_eq!(
        (q[0].status.as_str(), q[0].sent_at.clone()),
        ("sent", Some(t(56)))
    );
    assert!(
        store
            .claim_mail(now + chrono::Duration::days(1), 10)
            .await
            .unwrap()
            .is_empty(),
        "sent is done"
    );
    assert_eq!(
        store
            .audit_log(ws, 10)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == "mail.sent")
            .count(),
        1
    );
    // Closed, then the customer's poor recovery answer reopens it; answered once.
    store
        .act_on_follow_up(ws, f.id, &act(Action::Contact, 57), &["process"])
        .await
        .unwrap();
    store
        .act_on_follow_up(ws, f.id, &act(Action::Close, 58), &["process"])
        .await
        .unwrap();
    assert_eq!(
        store.record_recovery(ws, f.id, 1, &t(60)).await.unwrap(),
        RecoveryOutcome::Reopened
    );
    let back = store.follow_up(ws, f.id).await.unwrap();
    assert_eq!(
        (back.status, back.closed_at.clone(), back.recovery_score),
        (Status::Contacted, None, None)
    );
    assert_eq!(
        store.record_recovery(ws, f.id, 5, &t(61)).await.unwrap(),
        RecoveryOutcome::NotOpen
    );
}

conformance!(cases_their_changes_and_links);

/// Cases on both backends: steps replaced as a whole, a case created once however
/// many instances send it at once, a reference already taken refused, each change
/// stored once with its encounter, an older change not moving the case back, and a
/// link that opens the case only while it is live.
async fn cases_their_changes_and_links(store: Store) {
    use kohtaamo_domain::cases::{StepInput, StepsInput};
    use kohtaamo_domain::model::{JourneyInput, SegmentInput};
    use kohtaamo_storage::cases::{NewCase, NewChange};
    let ws = workspace(&store, "w").await;
    let seg = store
        .create(
            ws,
            &SegmentInput {
                slug: "s".into(),
                name: t("S"),
                description: BTreeMap::new(),
                needs: None,
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap();
    let j = store
        .create(
            ws,
            &JourneyInput {
                slug: "bag".into(),
                name: t("Bag"),
                description: BTreeMap::new(),
                segment_id: seg.id,
                package_ids: None,
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap()
        .id;
    let step = |key: &str, statuses: &[&str]| StepInput {
        key: key.into(),
        name: t(key),
        meaning: BTreeMap::new(),
        next: t("next"),
        expected_days: Some(3),
        statuses: statuses.iter().map(|s| s.to_string()).collect(),
    };
    let steps = StepsInput {
        steps: vec![step("open", &["new"]), step("done", &["closed"])],
    }
    .parse()
    .unwrap();
    store.set_case_steps(ws, j, &steps).await.unwrap();
    store.set_case_steps(ws, j, &steps).await.unwrap();
    assert_eq!(
        store.case_steps(ws, j).await.unwrap(),
        steps,
        "replaced, not added"
    );
    assert!(matches!(
        store.set_case_steps(ws, 999_999, &steps).await,
        Err(StoreError::NotFound)
    ));
    let new = |client: &str, reference: &str| NewCase {
        client_id: client.into(),
        reference: reference.into(),
        journey_id: j,
        customer: Some("crm:9".into()),
        unit_id: None,
        language: Some("fi".into()),
        title: Some("Laukku".into()),
        status: "new".into(),
        at: "2026-03-02T08:00:00Z".into(),
        ask: None,
        ask_due: None,
        verifier_hash: Some("h".into()),
        created_by: "user:a".into(),
    };
    let change = |status: &str, at: &str| NewChange {
        status: status.into(),
        at: at.into(),
        note: Some("Hei".into()),
        ask: None,
        ask_due: None,
        recorded_by: "user:a".into(),
    };
    let first = change("new", "2026-03-02T08:00:00Z");
    let enc = encounter("case:c1:new", "2026-03-02T08:00:00Z", Some("crm:9"));
    let (one, two) = (new("c1", "AAAA3333"), new("c1", "CCCC4444"));
    let (a, b) = tokio::join!(
        store.create_case(ws, &one, &first, &enc),
        store.create_case(ws, &two, &first, &enc)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.1 as u8 + b.1 as u8, 1, "created once");
    assert_eq!(a.0.id, b.0.id);
    let case = a.0;
    // Another case may not take the same reference.
    let taken = store
        .create_case(
            ws,
            &new("c2", &case.reference),
            &first,
            &encounter("case:c2:new", "2026-03-02T08:00:00Z", None),
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let later = change("closed", "2026-03-04T08:00:00Z");
    let enc2 = encounter("case:c1:closed", "2026-03-04T08:00:00Z", Some("crm:9"));
    let notice = |dedupe: &str, hash: &str| kohtaamo_storage::cases::Notice {
        mail: kohtaamo_storage::mail::NewMail {
            dedupe: dedupe.into(),
            kind: "case-step".into(),
            to: "asiakas@example.fi".into(),
            subject: "Asianne".into(),
            body: "Katso".into(),
            unsubscribe: Some("http://localhost/s/u/1/x".into()),
        },
        link_hash: hash.into(),
        link_expires: "2099-01-01T00:00:00Z".into(),
        by: "system:case-mail".into(),
    };
    let told = [notice("n-closed", "h-mail")];
    let (x, y) = tokio::join!(
        store.change_case(ws, case.id, &later, &enc2, &told),
        store.change_case(ws, case.id, &later, &enc2, &told)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.1 as u8 + y.1 as u8, 1, "changed once");
    let older = change("new", "2026-03-03T08:00:00Z");
    let enc3 = encounter("case:c1:new2", "2026-03-03T08:00:00Z", Some("crm:9"));
    let (c, changed) = store
        .change_case(ws, case.id, &older, &enc3, &[notice("n-older", "h-older")])
        .await
        .unwrap();
    assert!(changed);
    let mails = store.mail_of(ws, 10).await.unwrap();
    assert_eq!(
        mails.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>(),
        ["Asianne"],
        "one message for the change that moved the case, none for a late one"
    );
    assert_eq!(
        mails[0].unsubscribe.as_deref(),
        Some("http://localhost/s/u/1/x")
    );
    assert!(store
        .case_by_link("h-mail", "2026-03-05T00:00:00Z")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .case_by_link("h-older", "2026-03-05T00:00:00Z")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        (c.status.as_str(), c.status_at.as_str()),
        ("closed", "2026-03-04T08:00:00Z")
    );
    let changes = store.case_changes(ws, case.id).await.unwrap();
    assert_eq!(
        changes.iter().map(|c| c.at.as_str()).collect::<Vec<_>>(),
        [
            "2026-03-02T08:00:00Z",
            "2026-03-03T08:00:00Z",
            "2026-03-04T08:00:00Z"
        ]
    );
    let timeline = store
        .encounters(
            ws,
            &kohtaamo_storage::encounters::EncounterFilter {
                case_ref: Some("K-1".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(timeline.len(), 3, "one encounter per change");
    // Links: live, expired, revoked.
    store
        .add_case_link(ws, case.id, "h-live", "2099-01-01T00:00:00Z", "user:a")
        .await
        .unwrap();
    store
        .add_case_link(ws, case.id, "h-old", "2020-01-01T00:00:00Z", "user:a")
        .await
        .unwrap();
    let now = "2026-03-05T00:00:00Z";
    let opened = store.case_by_link("h-live", now).await.unwrap().unwrap();
    assert_eq!((opened.0, opened.1.id), (ws, case.id));
    assert!(
        store.case_by_link("h-old", now).await.unwrap().is_none(),
        "expired"
    );
    assert!(store.case_by_link("h-none", now).await.unwrap().is_none());
    assert_eq!(store.revoke_case_links(ws, case.id, now).await.unwrap(), 3);
    assert!(
        store.case_by_link("h-live", now).await.unwrap().is_none(),
        "revoked"
    );
    assert_eq!(store.case_links(ws, case.id).await.unwrap().len(), 3);
    // Subscriptions: renewed for the same address, limited per case, ended once.
    let sub = |email: &str| kohtaamo_storage::cases::NewSubscription {
        email: email.into(),
        language: "fi".into(),
        consent: "Haluan sähköpostia".into(),
        channel: "status-page".into(),
    };
    let confirm = |id: i64| notice(&format!("sub:{id}"), &format!("h-sub-{id}"));
    let s1 = store
        .subscribe_case(ws, case.id, &sub("a@example.fi"), 1, confirm)
        .await
        .unwrap();
    assert!(matches!(
        store
            .subscribe_case(ws, case.id, &sub("b@example.fi"), 1, confirm)
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Its consent is recorded with the text, version, language and channel, and the
    // case's customer as its subject.
    let consent = |store: &Store| {
        let store = store.clone();
        async move {
            sqlx::query_as::<_, (String, Option<String>, String, String, String, String, Option<String>)>(
                "SELECT purpose, subject, contact, text, version, channel, withdrawn_at FROM consents WHERE source = $1",
            )
            .bind(format!("subscription:{}", s1.id))
            .fetch_all(store.pool())
            .await
            .unwrap()
        }
    };
    let given = consent(&store).await;
    assert_eq!(given.len(), 1);
    assert_eq!(
        (
            given[0].0.as_str(),
            given[0].1.clone(),
            given[0].2.as_str(),
            given[0].3.as_str()
        ),
        (
            "case-updates",
            case.customer.clone(),
            "a@example.fi",
            "Haluan sähköpostia"
        )
    );
    assert_eq!(
        given[0].4,
        kohtaamo_domain::privacy::consent_version("Haluan sähköpostia")
    );
    assert_eq!(
        (given[0].5.as_str(), given[0].6.clone()),
        ("status-page", None)
    );
    assert!(store.unsubscribe_case(s1.id, now).await.unwrap());
    assert!(!store.unsubscribe_case(s1.id, now).await.unwrap(), "once");
    assert_eq!(
        consent(&store).await[0].6.as_deref(),
        Some(now),
        "unsubscribing withdraws the consent"
    );
    let again = store
        .subscribe_case(ws, case.id, &sub("a@example.fi"), 1, |id| {
            notice(&format!("sub2:{id}"), &format!("h-sub2-{id}"))
        })
        .await
        .unwrap();
    assert_eq!(again.id, s1.id, "the same address renews its row");
    assert_eq!(again.unsubscribed_at, None);
    let renewed = consent(&store).await;
    assert_eq!(renewed.len(), 1);
    assert_eq!(renewed[0].6, None, "subscribing again gives it again");
    assert_eq!(
        store.subscription(s1.id).await.unwrap().map(|x| x.0),
        Some(ws)
    );
    assert_eq!(
        store.case_subscriptions(ws, case.id).await.unwrap().len(),
        1
    );
    // Page opens add up per hour; a case that is gone takes none.
    let h = "2026-03-04T09".to_string();
    store
        .add_case_opens(&[(ws, case.id, h.clone(), 2), (ws, 999_999, h.clone(), 5)])
        .await
        .unwrap();
    store
        .add_case_opens(&[(ws, case.id, h.clone(), 3)])
        .await
        .unwrap();
    assert_eq!(
        store.case_opens(ws, j).await.unwrap(),
        vec![(case.id, h, 5)]
    );
    assert_eq!(
        store.case_statuses_in_use(ws, j).await.unwrap(),
        vec![("closed".to_string(), 1)]
    );
    let traces = store
        .case_traces(ws, j, "2000-01-01T00:00:00Z", 10)
        .await
        .unwrap();
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0].changes.len(), 3);
    assert_eq!(traces[0].changes[0].0, "new");
    store
        .set_case_verifier_label(ws, Some("{\"fi\":\"Postinumero\"}"))
        .await
        .unwrap();
    assert_eq!(
        store.case_verifier_label(ws).await.unwrap().as_deref(),
        Some("{\"fi\":\"Postinumero\"}")
    );
    store.set_case_verifier_label(ws, None).await.unwrap();
    assert_eq!(store.case_verifier_label(ws).await.unwrap(), None);
    // With the instance's writer running (SQLite routes changes through it, so changes
    // arriving together share a commit): the same guarantees.
    let _writer = kohtaamo_storage::feedback::Ingest::start(store.clone(), 64);
    let mails_before = store.mail_of(ws, 100).await.unwrap().len();
    let again = change("new", "2026-03-06T08:00:00Z");
    let enc4 = encounter("case:c1:new3", "2026-03-06T08:00:00Z", Some("crm:9"));
    let told = [notice("n-writer", "h-writer")];
    let (x, y, z) = tokio::join!(
        store.change_case(ws, case.id, &again, &enc4, &told),
        store.change_case(ws, case.id, &again, &enc4, &told),
        store.change_case(ws, 999_999, &again, &enc4, &told),
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.1 as u8 + y.1 as u8, 1, "changed once through the writer");
    assert_eq!(x.0.status, "new", "{x:?}");
    assert!(matches!(z, Err(StoreError::NotFound)), "{z:?}");
    assert_eq!(
        store.mail_of(ws, 100).await.unwrap().len(),
        mails_before + 1,
        "the writer's notice queued once"
    );
    assert!(store
        .case_by_link("h-writer", "2026-03-07T00:00:00Z")
        .await
        .unwrap()
        .is_some());
    assert_eq!(store.case_changes(ws, case.id).await.unwrap().len(), 4);
    assert_eq!(
        store
            .case_by_reference(ws, &case.reference)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(case.id)
    );
}

conformance!(
    the_register_declares_every_table_and_column,
    audit_appends_at_once_keep_one_chain,
    a_person_is_found_through_indexes
);

/// Finding one person's rows reads no table whole (SQLite's plans; before, an `OR` of
/// lists and subqueries read every row of the workspace: seconds at 10 M responses).
/// PostgreSQL plans by its statistics, so there the look-ups only run.
async fn a_person_is_found_through_indexes(store: Store) {
    use kohtaamo_storage::privacy::Subject;
    let ws = workspace(&store, "w").await;
    for s in [
        Subject {
            customers: vec![1, 2],
            refs: vec!["crm:1".into(), "email:#abc".into()],
            case_refs: vec!["K7MP4XRT".into()],
            addresses: vec!["maija@example.fi".into()],
        },
        Subject {
            refs: vec!["crm:1".into()],
            ..Default::default()
        },
    ] {
        let plans = store.subject_plans(ws, &s).await.unwrap();
        if store.backend() != Backend::Sqlite {
            continue;
        }
        for (table, lines) in plans {
            for l in &lines {
                // A whole table, or a whole workspace through an index on it.
                assert!(
                    (!l.starts_with("SCAN ") || l == "SCAN CONSTANT ROW")
                        && !l.ends_with("(workspace_id=?)"),
                    "{table} is read whole to find a person: {lines:#?}"
                );
            }
        }
    }
}

/// The register of personal data (`kohtaamo_domain::privacy::REGISTER`) names every
/// table of the migrated schema, and every column of each table of people's data: a
/// migration that adds either without declaring it fails here.
async fn the_register_declares_every_table_and_column(store: Store) {
    use kohtaamo_domain::privacy::{table, Holds, REGISTER};
    use sqlx::Row;
    let sql = match store.backend() {
        Backend::Sqlite => "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
        Backend::Postgres => "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
    };
    let mut schema: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in sqlx::query(sql).fetch_all(store.pool()).await.unwrap() {
        schema
            .entry(r.get::<String, _>(0))
            .or_default()
            .push(r.get::<String, _>(1));
    }
    assert!(schema.len() > 40, "{schema:?}");
    for (name, cols) in &schema {
        let t = table(name).unwrap_or_else(|| {
            panic!("table {name} is not in the register of personal data (kohtaamo_domain::privacy::REGISTER)")
        });
        if matches!(t.holds, Holds::Customers | Holds::Staff) {
            for c in cols {
                assert!(
                    t.columns.iter().any(|(d, _)| d == c),
                    "column {name}.{c} holds people's data and is not declared in the register"
                );
            }
            for (d, _) in t.columns {
                assert!(
                    cols.iter().any(|c| c == d),
                    "the register declares {name}.{d}, which the schema does not have"
                );
            }
        }
    }
    for t in REGISTER {
        assert!(
            schema.contains_key(t.name),
            "the register declares table {}, which the schema does not have",
            t.name
        );
    }
}

/// Entries appended to one workspace's audit trail at once (many connections on
/// PostgreSQL) form one chain; an entry cut off the end or changed is found.
async fn audit_appends_at_once_keep_one_chain(store: Store) {
    use kohtaamo_storage::privacy::Actor;
    let ws = workspace(&store, "w").await;
    let other = workspace(&store, "o").await;
    let mut tasks = vec![];
    for i in 0..24 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let w = if i % 3 == 0 { other } else { ws };
            store
                .audit(
                    w,
                    &Actor::system(),
                    "privacy.export",
                    "subject #x",
                    &format!("{i} rows"),
                )
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.verify_audit(ws).await.unwrap(), Ok(16));
    assert_eq!(store.verify_audit(other).await.unwrap(), Ok(8));
    // The last entry removed: the head says there were more.
    sqlx::query("DELETE FROM audit_log WHERE workspace_id = $1 AND seq = 8")
        .bind(other)
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(
        store
            .verify_audit(other)
            .await
            .unwrap()
            .map_err(|b| b.reason),
        Err("entries-cut-off")
    );
    // An entry in the middle changed.
    sqlx::query("UPDATE audit_log SET actor = 'user:99' WHERE workspace_id = $1 AND seq = 5")
        .bind(ws)
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(
        store
            .verify_audit(ws)
            .await
            .unwrap()
            .map_err(|b| (b.seq, b.reason)),
        Err((5, "entry-changed"))
    );
}
