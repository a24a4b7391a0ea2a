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
    let data = WorkspaceInput { slug: slug.into(), name: t(slug), default_language: "fi".into() }.parse().unwrap();
    store.create_workspace(&data, None).await.unwrap()
}

fn unit(slug: &str, parent: Option<Id>) -> UnitData {
    UnitInput { slug: slug.into(), name: t(slug), description: BTreeMap::new(), parent_id: parent }.parse().unwrap()
}

fn all() -> ListQuery {
    ListQuery { limit: 100, offset: 0, q: None, filters: vec![] }
}

fn field_errors(e: StoreError) -> BTreeMap<String, String> {
    match e {
        StoreError::Invalid(fe) => fe.0,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

conformance!(migrations_are_idempotent, unit_crud_and_conflicts, unit_tree_refuses_cycles, workspaces_are_isolated, tricky_strings_round_trip);

async fn migrations_are_idempotent(store: Store) {
    assert_eq!(kohtaamo_storage::migrate::applied(&store).await.unwrap(), vec![1]);
    assert!(kohtaamo_storage::migrate::run(&store).await.unwrap().is_empty());
}

async fn unit_crud_and_conflicts(store: Store) {
    let ws = workspace(&store, "w").await;
    let ops = store.create(ws, &unit("ops", None)).await.unwrap();
    let cs = store.create(ws, &unit("cs", Some(ops.id))).await.unwrap();
    assert_eq!(cs.data.parent_id, Some(ops.id));
    assert!(matches!(store.create(ws, &unit("ops", None)).await, Err(StoreError::Conflict(_))));

    let mut renamed = unit("customer-service", Some(ops.id));
    renamed.name = kohtaamo_domain::text::Texts::single("fi", "Asiakaspalvelu");
    let upd = store.update(ws, cs.id, &renamed).await.unwrap();
    assert_eq!(upd.data.slug.as_str(), "customer-service");
    assert_eq!(store.get::<UnitData>(ws, cs.id).await.unwrap().data, renamed);

    // A referenced unit cannot be deleted; its child can, then it can.
    assert!(matches!(store.delete::<UnitData>(ws, ops.id).await, Err(StoreError::Conflict(_))));
    store.delete::<UnitData>(ws, cs.id).await.unwrap();
    store.delete::<UnitData>(ws, ops.id).await.unwrap();
    assert!(matches!(store.get::<UnitData>(ws, ops.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.delete::<UnitData>(ws, ops.id).await, Err(StoreError::NotFound)));
    assert_eq!(store.list::<UnitData>(ws, &all()).await.unwrap().total, 0);
}

async fn unit_tree_refuses_cycles(store: Store) {
    let ws = workspace(&store, "w").await;
    let a = store.create(ws, &unit("a", None)).await.unwrap();
    let b = store.create(ws, &unit("b", Some(a.id))).await.unwrap();
    let c = store.create(ws, &unit("c", Some(b.id))).await.unwrap();
    let e = field_errors(store.update(ws, a.id, &unit("a", Some(c.id))).await.unwrap_err());
    assert!(e.contains_key("parent_id"), "{e:?}");
    let e = field_errors(store.update(ws, a.id, &unit("a", Some(a.id))).await.unwrap_err());
    assert!(e.contains_key("parent_id"), "{e:?}");
    // Unchanged after the refusals.
    assert_eq!(store.get::<UnitData>(ws, a.id).await.unwrap().data.parent_id, None);
}

async fn workspaces_are_isolated(store: Store) {
    let a = workspace(&store, "a").await;
    let b = workspace(&store, "b").await;
    let ua = store.create(a, &unit("it", None)).await.unwrap();
    // Same slug in another workspace is fine.
    store.create(b, &unit("it", None)).await.unwrap();
    assert!(matches!(store.get::<UnitData>(b, ua.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.update(b, ua.id, &unit("x", None)).await, Err(StoreError::NotFound)));
    assert!(matches!(store.delete::<UnitData>(b, ua.id).await, Err(StoreError::NotFound)));
    // A reference to another workspace's record is refused as unknown.
    let e = field_errors(store.create(b, &unit("child", Some(ua.id))).await.unwrap_err());
    assert!(e["parent_id"].contains("no unit"), "{e:?}");
    assert_eq!(store.list::<UnitData>(b, &all()).await.unwrap().total, 1);
    assert_eq!(store.get::<UnitData>(a, ua.id).await.unwrap().data.slug.as_str(), "it");
}

async fn tricky_strings_round_trip(store: Store) {
    let ws = workspace(&store, "w").await;
    let nasty = "Robert'); DROP TABLE units;-- \"<script>alert(1)</script>\" <img src=x onerror=alert(1)> 🚆 ääkköset % _ \\";
    let mut u = unit("nasty", None);
    u.name = kohtaamo_domain::text::Texts::single("fi", nasty);
    let rec = store.create(ws, &u).await.unwrap();
    assert_eq!(store.get::<UnitData>(ws, rec.id).await.unwrap().data.name.get("fi", "fi"), Some(nasty));
    // LIKE wildcards in a search are literal.
    let q = ListQuery { q: Some("% _".into()), ..all() };
    assert_eq!(store.list::<UnitData>(ws, &q).await.unwrap().total, 1);
    let q = ListQuery { q: Some("%x%".into()), ..all() };
    assert_eq!(store.list::<UnitData>(ws, &q).await.unwrap().total, 0);
}
