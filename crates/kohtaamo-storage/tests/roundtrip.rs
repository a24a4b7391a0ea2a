//! Property: for any valid model document D, export(import(D)) is a fixed point —
//! importing that export into a fresh database and exporting again gives the same
//! bytes, and re-importing D changes nothing. Runs on SQLite (each case needs two
//! fresh databases; the conformance suite covers PostgreSQL with the demo model).

use std::collections::BTreeMap;

use kohtaamo_domain::document::*;
use kohtaamo_storage::model_io::{parse_yaml, to_yaml};
use kohtaamo_storage::testing::fresh;
use kohtaamo_storage::{Backend, Store};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-zÄÖäö][A-Za-z0-9 äöå,.:'\"<>&#-]{0,24}",
        Just("yes".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("1.0".to_string()),
        Just("- item".to_string()),
        Just("🚆 <script>alert(1)</script>".to_string()),
        Just("'; DROP TABLE units;--".to_string()),
    ]
}

fn texts() -> impl Strategy<Value = BTreeMap<String, String>> {
    (
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(|(fi, en, sv)| {
            let mut m = BTreeMap::from([("fi".to_string(), fi)]);
            if let Some(en) = en {
                m.insert("en".into(), en);
            }
            if let Some(sv) = sv {
                m.insert("sv".into(), sv);
            }
            m
        })
}

const LANES: [&str; 4] = [
    "customer_action",
    "frontstage",
    "backstage",
    "support_process",
];
const CHANNELS: [&str; 4] = ["web", "phone", "in_person", "kiosk"];
const ROLES: [&str; 3] = ["core", "enabling", "complementary"];

prop_compose! {
    fn document()(
        n_units in 1usize..6,
        parents in proptest::collection::vec(any::<prop::sample::Index>(), 6),
        has_parent in proptest::collection::vec(any::<bool>(), 6),
        names in proptest::collection::vec(texts(), 40),
        n_elements in 1usize..5,
        owners in proptest::collection::vec(0usize..8, 5),
        stages in proptest::collection::vec(0usize..4, 1..4),
        lanes in proptest::collection::vec(0usize..4, 12),
        emotions in proptest::collection::vec(-2i64..=2, 12),
        roles in proptest::collection::vec(0usize..3, 5),
        published in any::<bool>(),
        reviewed in proptest::collection::vec(proptest::option::of(0u32..900), 3),
    ) -> Document {
        let mut name = names.into_iter().cycle();
        let units: Vec<DocUnit> = (0..n_units).map(|i| DocUnit {
            slug: format!("u{i}"),
            name: name.next().unwrap_or_default(),
            description: BTreeMap::new(),
            // Parents only point to earlier units: always a tree.
            parent: (i > 0 && has_parent[i]).then(|| format!("u{}", parents[i].index(i))),
        }).collect();
        let owner = |k: usize| match k % 4 {
            0 => None,
            1 => Some(DocRef::Partner("p0".into())),
            _ => Some(DocRef::Unit(format!("u{}", k % n_units))),
        };
        let elements: Vec<DocElement> = (0..n_elements).map(|i| DocElement {
            slug: format!("e{i}"), name: name.next().unwrap_or_default(), description: BTreeMap::new(),
            kind: if i % 2 == 0 { "service" } else { "product" }.into(),
            customer_visible: i % 2 == 0, has_it_components: i % 3 == 0, owner: owner(owners[i]),
        }).collect();
        let mut pkg_elements: Vec<DocPackageElement> = (0..n_elements).map(|i| DocPackageElement { element: format!("e{i}"), role: ROLES[roles[i]].into() }).collect();
        pkg_elements[0].role = "core".into();
        let mut tp_count = 0;
        let doc_stages: Vec<DocStage> = stages.iter().enumerate().map(|(s, n)| DocStage {
            slug: format!("s{s}"), name: name.next().unwrap_or_default(), description: BTreeMap::new(),
            touchpoints: (0..*n).map(|_| {
                let k = tp_count; tp_count += 1;
                DocTouchpoint {
                    slug: format!("t{k}"), name: name.next().unwrap_or_default(), description: BTreeMap::new(),
                    channel: CHANNELS[k % 4].into(), owner: owner(k), element: (k % 2 == 0).then(|| format!("e{}", k % n_elements)),
                    lane: LANES[lanes[k]].into(), interface: (k % 3 != 0).then(|| "company_customer".to_string()),
                    emotion: emotions[k], moment_of_truth: k % 4 == 1,
                    presence: [None, Some("required"), Some("optional")][k % 3].map(String::from),
                }
            }).collect(),
        }).collect();
        let day = |d: u32| (chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(d as i64)).to_string();
        Document {
            kohtaamo: 1,
            workspace: DocWorkspace { slug: "gen".into(), name: name.next().unwrap_or_default(), default_language: "fi".into() },
            partners: vec![DocPartner { slug: "p0".into(), name: name.next().unwrap_or_default(), description: BTreeMap::new(), unit: Some("u0".into()) }],
            segments: vec![DocSegment { slug: "seg".into(), name: name.next().unwrap_or_default(), description: BTreeMap::new(), needs: name.next().unwrap_or_default() }],
            people: vec![DocPerson { slug: "anna".into(), name: "Anna O'Hara".into(), email: Some("anna@example.com".into()), unit: Some("u0".into()), role_title: BTreeMap::new() }],
            channels: vec![DocNamed { slug: "kiosk".into(), name: name.next().unwrap_or_default(), description: BTreeMap::new() }],
            relations: vec![
                DocRelation { provider: DocRef::Unit("u0".into()), customer: DocRef::Segment("seg".into()), value_statement: name.next().unwrap_or_default(), review_interval_days: 90, last_reviewed_on: reviewed[0].map(day) },
                DocRelation { provider: DocRef::Person("anna".into()), customer: DocRef::Partner("p0".into()), value_statement: BTreeMap::new(), review_interval_days: 30, last_reviewed_on: reviewed[1].map(day) },
            ],
            units,
            elements,
            packages: vec![DocPackage { slug: "pkg".into(), name: name.next().unwrap_or_default(), description: BTreeMap::new(), published, elements: pkg_elements }],
            journeys: vec![DocJourney { slug: "j".into(), name: name.next().unwrap_or_default(), description: BTreeMap::new(), segment: "seg".into(), packages: vec!["pkg".into()], stages: doc_stages }],
            process_steps: vec![DocProcessStep { slug: "step".into(), name: name.next().unwrap_or_default(), description: BTreeMap::new(), owner: Some("u0".into()), duration_minutes: Some(15),
                serves: (0..tp_count).step_by(2).map(|k| format!("t{k}")).collect() }],
            surveys: vec![DocSurvey {
                slug: "survey".into(), name: name.next().unwrap_or_default(),
                status: if published { "active" } else { "draft" }.into(),
                touchpoint: (tp_count > 0).then(|| "t0".into()), journey: (tp_count == 0).then(|| "j".into()), package: None,
                intro: name.next().unwrap_or_default(), thanks: BTreeMap::new(),
                questions: vec![
                    kohtaamo_domain::survey::QuestionInput { key: "nps".into(), kind: "nps".into(), text: BTreeMap::new(), required: true, options: vec![], scale: None, show_if: None },
                    kohtaamo_domain::survey::QuestionInput { key: "why".into(), kind: "text".into(), text: name.next().unwrap_or_default(), required: false, options: vec![], scale: None,
                        show_if: Some(kohtaamo_domain::survey::ShowIf { question: "nps".into(), min: 0, max: 6 }) },
                    kohtaamo_domain::survey::QuestionInput { key: "pick".into(), kind: "single".into(), text: name.next().unwrap_or_default(), required: false, scale: None, show_if: None,
                        options: vec![kohtaamo_domain::survey::ChoiceInput { key: "a".into(), label: name.next().unwrap_or_default() }, kohtaamo_domain::survey::ChoiceInput { key: "b".into(), label: name.next().unwrap_or_default() }] },
                ],
                allowed_origins: vec!["https://example.fi".into()],
            }],
        }
    }
}

async fn fresh_store() -> (Store, kohtaamo_storage::testing::TestDb) {
    let db = fresh(Backend::Sqlite).await;
    (Store::connect(&db.url).await.unwrap(), db)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn export_import_export_is_byte_identical(doc in document()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            doc.validate().expect("generator makes valid documents");
            let (a, _da) = fresh_store().await;
            a.import(&doc, false).await.expect("import");
            let e1 = to_yaml(&a.export("gen").await.unwrap());
            let again = a.import(&doc, false).await.unwrap();
            assert_eq!((again.created, again.updated), (0, 0), "{again:?}");
            let (b, _db) = fresh_store().await;
            b.import(&parse_yaml(&e1).expect("export parses"), false).await.expect("re-import");
            let e2 = to_yaml(&b.export("gen").await.unwrap());
            assert_eq!(e1, e2);
        });
    }
}

/// The complete example in docs/model-format.md is a valid document that imports.
#[tokio::test]
async fn documented_example_imports() {
    let doc = include_str!("../../../docs/model-format.md");
    let start = doc.find("## A complete example").expect("section");
    let yaml = doc[start..]
        .split("```yaml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("yaml block");
    let parsed = parse_yaml(yaml).expect("parses");
    parsed.validate().expect("valid");
    let (store, _db) = fresh_store().await;
    let r = store.import(&parsed, false).await.expect("imports");
    assert_eq!(r.created, 1 + 3 + 1 + 1 + 1 + 1 + 2 + 3 + 1 + 1 + 2 + 2 + 1);
}
