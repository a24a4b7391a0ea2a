//! The use cases of `kohtaamo-app` called directly, without HTTP, on a real database
//! (SQLite, or PostgreSQL with `KOHTAAMO_TEST_BACKEND=postgres`): feedback submission,
//! the analysis (score tables, weakest encounter, trend, response rate, drivers), the
//! insight report as of a given day, the jobs run once through the scheduler with a
//! fixed clock, and the Markdown report.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use kohtaamo_app::analysis::{journey_drivers, trend, Analysis, Grain, MIN_SAMPLE};
use kohtaamo_app::clock::{Clock, FixedClock, SharedClock, SystemClock};
use kohtaamo_app::feedback::{Feedback, FeedbackConfig, ResponseInput};
use kohtaamo_app::i18n::I18n;
use kohtaamo_app::jobs::{Job, JobCtx, Scheduler};
use kohtaamo_app::Error;
use kohtaamo_domain::alerts::AlertRuleInput;
use kohtaamo_domain::analytics::{GroupKey, Scope, Shown};
use kohtaamo_domain::model::{Parse, TouchpointData};
use kohtaamo_domain::survey::{HiddenInput, SurveyData};
use kohtaamo_domain::Id;
use kohtaamo_storage::testing::{backend_from_env, fresh, TestDb};
use kohtaamo_storage::{ListQuery, Store};
use serde_json::json;

#[path = "common/smtp.rs"]
mod smtp;

/// A rail company with one journey (two touchpoints owned by two units), a survey at
/// each touchpoint, a survey about the journey, a relation last reviewed 2026-01-01
/// with a 90-day interval (sales → commuters), one to a partner that stays fresh
/// (onboard → caterer), and a unit without customers (archive).
const MODEL: &str = r#"
kohtaamo: 1
workspace: {slug: rail, name: {fi: Rautatie, en: Rail}, default_language: fi}
units:
  - {slug: sales, name: {fi: Myynti, en: Sales}}
  - {slug: onboard, name: {fi: Junapalvelu, en: Onboard service}}
  - {slug: archive, name: {fi: Arkisto, en: Archive}}
partners:
  - {slug: caterer, name: {fi: Pitopalvelu, en: Caterer}}
segments:
  - {slug: commuter, name: {fi: Työmatkalainen, en: Commuter}}
relations:
  - provider: {unit: sales}
    customer: {segment: commuter}
    review_interval_days: 90
    last_reviewed_on: 2026-01-01
  - provider: {unit: onboard}
    customer: {partner: caterer}
    review_interval_days: 3650
    last_reviewed_on: 2026-01-01
journeys:
  - slug: trip
    name: {fi: Junamatka, en: Train trip}
    segment: commuter
    stages:
      - slug: travel
        name: {fi: Matka, en: Travel}
        touchpoints:
          - {slug: ticket-shop, name: {fi: Lippukauppa, en: Ticket shop}, channel: web, lane: frontstage, owner: {unit: sales}}
          - {slug: restaurant-car, name: {fi: Ravintolavaunu, en: Restaurant car}, channel: in_person, lane: frontstage, owner: {unit: onboard}}
surveys:
  - {slug: shop, name: {fi: Kauppa, en: Shop}, status: active, touchpoint: ticket-shop, questions: [{key: nps, kind: nps, required: true}]}
  - {slug: car, name: {fi: Vaunu, en: Car}, status: active, touchpoint: restaurant-car, questions: [{key: nps, kind: nps, required: true}, {key: contact, kind: contact}]}
  - {slug: whole-trip, name: {fi: Koko matka, en: Whole trip}, status: active, journey: trip, questions: [{key: nps, kind: nps, required: true}]}
"#;

struct World {
    store: Store,
    ws: Id,
    shop_tp: Id,
    car_tp: Id,
    unit_onboard: Id,
    feedback: Feedback,
    _db: TestDb,
}

fn fixed(day: NaiveDate) -> SharedClock {
    Arc::new(FixedClock::on(day))
}

fn today() -> NaiveDate {
    SystemClock.today()
}

/// Erases the person known by `identifier` in `ws`, as `officer` (privacy role).
async fn erase(
    store: &Store,
    ws: Id,
    officer: &kohtaamo_storage::privacy::Actor,
    identifier: &str,
) {
    kohtaamo_app::privacy::erase(
        store,
        ws,
        (officer, kohtaamo_domain::model::Role::Privacy),
        &kohtaamo_app::privacy::SubjectInput {
            identifiers: vec![identifier.into()],
            ..Default::default()
        },
        false,
    )
    .await
    .unwrap();
}

async fn world() -> World {
    let db = fresh(backend_from_env()).await;
    let store = Store::connect(&db.url).await.expect("connect");
    kohtaamo_app::model::import_yaml(
        &store,
        MODEL,
        None,
        false,
        kohtaamo_app::model::Importer::Admin,
    )
    .await
    .expect("import");
    let ws = store.workspace_by_slug("rail").await.unwrap().unwrap().id;
    let tps = store
        .list::<TouchpointData>(ws, &ListQuery::all())
        .await
        .unwrap()
        .items;
    let id_of = |slug: &str| {
        tps.iter()
            .find(|t| t.data.slug.as_str() == slug)
            .unwrap()
            .id
    };
    let (shop_tp, car_tp) = (id_of("ticket-shop"), id_of("restaurant-car"));
    let snapshot = store.snapshot(ws).await.unwrap();
    let unit_onboard = snapshot
        .units
        .iter()
        .find(|(_, u)| u.slug.as_str() == "onboard")
        .unwrap()
        .0;
    let feedback = Feedback::new(
        store.clone(),
        &FeedbackConfig {
            per_minute_ip: 0,
            per_minute_survey: 0,
            ..Default::default()
        },
        Arc::new(SystemClock),
    );
    World {
        store,
        ws,
        shop_tp,
        car_tp,
        unit_onboard,
        feedback,
        _db: db,
    }
}

impl World {
    async fn survey_key(&self, slug: &str) -> String {
        let surveys = self
            .store
            .list::<SurveyData>(self.ws, &ListQuery::all())
            .await
            .unwrap()
            .items;
        let s = surveys
            .iter()
            .find(|s| s.data.slug.as_str() == slug)
            .unwrap();
        self.store.survey_key(self.ws, s.id).await.unwrap()
    }

    /// Answers survey `slug` with `nps`, through the same use case as the public API.
    async fn answer(&self, slug: &str, id: &str, nps: i64, case: Option<&str>) {
        self.answer_with(slug, id, json!({"nps": nps}), case).await
    }

    /// Answers survey `slug` with these answers.
    async fn answer_with(
        &self,
        slug: &str,
        id: &str,
        answers: serde_json::Value,
        case: Option<&str>,
    ) {
        let live = self
            .feedback
            .live(&self.survey_key(slug).await)
            .await
            .unwrap();
        let input = ResponseInput {
            id: Some(id.into()),
            answers: serde_json::from_value(answers).expect("answers"),
            complete: true,
            hidden: HiddenInput {
                case_ref: case.map(str::to_owned),
                ..Default::default()
            },
            invitation: None,
        };
        self.feedback
            .submit(&live, input, None)
            .await
            .expect("stored");
    }
}

#[tokio::test]
async fn submission_validates_through_the_use_case() {
    let w = world().await;
    let live = w.feedback.live(&w.survey_key("shop").await).await.unwrap();
    let bad = ResponseInput {
        id: Some("x".into()),
        answers: [("nps".to_string(), json!(11))].into(),
        complete: true,
        hidden: HiddenInput::default(),
        invitation: None,
    };
    match w.feedback.submit(&live, bad, None).await {
        Err(Error::Invalid(e)) => {
            assert!(e.0.contains_key("id"), "{e:?}");
            assert!(e.0.contains_key("answers.nps"), "{e:?}");
        }
        other => panic!("expected 422-like Invalid, got {other:?}"),
    }
    assert!(matches!(
        w.feedback.live("no-such-key").await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn score_tables_weakest_encounter_and_trend() {
    let w = world().await;
    // Ticket shop: 40 promoters. Restaurant car: 20 detractors, 20 promoters (NPS 0).
    for n in 0..40 {
        w.answer("shop", &format!("shop-{n:04}"), 10, None).await;
        let car = if n < 20 { 3 } else { 9 };
        w.answer("car", &format!("car-{n:04}"), car, None).await;
    }
    let day = today();
    let i = I18n::new("en", "fi");
    let an = Analysis::load(&w.store, w.ws, &i).await.unwrap();
    let t = an
        .table(
            &w.store,
            w.ws,
            Scope::Touchpoint,
            day - Duration::days(6),
            day,
            &i,
        )
        .await
        .unwrap();
    assert_eq!(t.min_sample, MIN_SAMPLE);
    assert_eq!(t.rows.len(), 2);
    let row = |id: Id| t.rows.iter().find(|r| r.key == GroupKey::Id(id)).unwrap();
    let (shop, car) = (row(w.shop_tp), row(w.car_tp));
    assert_eq!(
        (shop.name.as_str(), car.name.as_str()),
        ("Ticket shop", "Restaurant car")
    );
    assert_eq!((shop.responses, car.responses), (40, 40));
    match (&shop.nps, &car.nps) {
        (Shown::Score(a), Shown::Score(b)) => {
            assert!((a.value - 100.0).abs() < 1e-9, "{a:?}");
            assert!(b.value.abs() < 1e-9, "{b:?}");
        }
        other => panic!("both have enough answers: {other:?}"),
    }
    assert!(
        car.weakest && !shop.weakest,
        "the car is significantly lowest"
    );
    // The previous period is empty.
    assert!(matches!(car.previous_nps, Shown::NoAnswers));
    // Owning units: one row each, the same figures.
    let units = an
        .table(
            &w.store,
            w.ws,
            Scope::Unit,
            day - Duration::days(6),
            day,
            &i,
        )
        .await
        .unwrap();
    let onboard = units
        .rows
        .iter()
        .find(|r| r.key == GroupKey::Id(w.unit_onboard))
        .unwrap();
    assert_eq!(onboard.name, "Onboard service");
    assert_eq!(onboard.responses, 40);
    // The journey's touchpoints, weakest first; a unit's are its own.
    let journey = an.snapshot.journeys[0].0;
    let period = (day - Duration::days(6), day);
    let ranked = an
        .touchpoints_of(
            &w.store,
            w.ws,
            Scope::Journey,
            &GroupKey::Id(journey),
            period,
            &i,
        )
        .await
        .unwrap();
    let order: Vec<Id> = ranked
        .iter()
        .filter_map(|r| match r.key {
            GroupKey::Id(id) => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(order, vec![w.car_tp, w.shop_tp]);
    let mine = an
        .touchpoints_of(
            &w.store,
            w.ws,
            Scope::Unit,
            &GroupKey::Id(w.unit_onboard),
            period,
            &i,
        )
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].key, GroupKey::Id(w.car_tp));
    // Names are in the language the analysis was loaded in.
    let fi = I18n::new("fi", "fi");
    let an_fi = Analysis::load(&w.store, w.ws, &fi).await.unwrap();
    assert_eq!(
        an_fi.name(Scope::Touchpoint, &GroupKey::Id(w.car_tp), &fi),
        "Ravintolavaunu"
    );
    // The trend: every answer today, in one day and one week.
    let days = trend(
        &w.store,
        w.ws,
        day - Duration::days(6),
        day,
        Grain::Day,
        None,
    )
    .await
    .unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].week, day.to_string());
    assert_eq!(days[0].responses, 80);
    let only_car = trend(
        &w.store,
        w.ws,
        day - Duration::days(6),
        day,
        Grain::Week,
        Some((&an.scopes, Scope::Touchpoint, &GroupKey::Id(w.car_tp))),
    )
    .await
    .unwrap();
    assert_eq!(only_car.iter().map(|x| x.responses).sum::<i64>(), 40);
    // A period before any answer has no rows.
    let old = an
        .table(
            &w.store,
            w.ws,
            Scope::Touchpoint,
            day - Duration::days(60),
            day - Duration::days(30),
            &i,
        )
        .await
        .unwrap();
    assert!(old.rows.is_empty());
}

#[tokio::test]
async fn drivers_come_from_cases_that_answered_both() {
    let w = world().await;
    // 40 cases: the car answer moves with the journey NPS, the shop answer does not.
    for n in 0..40i64 {
        let case = format!("case-{n}");
        let journey = if n % 2 == 0 { 2 } else { 10 };
        w.answer("whole-trip", &format!("trip-{n:04}"), journey, Some(&case))
            .await;
        w.answer("car", &format!("car-{n:04}"), journey, Some(&case))
            .await;
        w.answer("shop", &format!("shop-{n:04}"), 8 + n % 3 / 2, Some(&case))
            .await;
    }
    let day = today();
    let i = I18n::new("en", "fi");
    let all = journey_drivers(&w.store, w.ws, day - Duration::days(6), day, &i)
        .await
        .unwrap();
    let rows = all.values().next().expect("the journey has drivers");
    assert_eq!(
        rows[0].touchpoint_id, w.car_tp,
        "the car drives the journey NPS"
    );
    assert!(rows[0].impact > 0.99 && rows[0].significant, "{rows:?}");
    assert_eq!(rows[0].n, 40);
    let shop = rows.iter().find(|r| r.touchpoint_id == w.shop_tp).unwrap();
    assert!(shop.impact.abs() < rows[0].impact);
}

#[tokio::test]
async fn insight_is_computed_as_of_the_day_asked() {
    let w = world().await;
    // Reviewed 2026-01-01 every 90 days: due 2026-04-01.
    let (_, before) =
        kohtaamo_app::insight::load(&w.store, w.ws, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap())
            .await
            .unwrap();
    assert!(before.insight.coverage.stale_relations.is_empty());
    let (snapshot, after) =
        kohtaamo_app::insight::load(&w.store, w.ws, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap())
            .await
            .unwrap();
    assert_eq!(after.insight.coverage.stale_relations.len(), 1);
    assert_eq!(after.slugs["touchpoints"][&w.car_tp], "restaurant-car");
    // The memo says the same, in the language asked for.
    let en = I18n::new("en", "fi");
    let md = kohtaamo_app::report::markdown(
        "Rail",
        &snapshot,
        &after.insight,
        &en,
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    );
    assert!(md.starts_with("# "), "{md}");
    assert!(md.contains("1 Jun 2026"), "{md}");
    // Each unit's situation in its own words: a chain, a partner but no end customer,
    // nobody at all.
    assert!(md.contains("- Sales → Commuter"), "{md}");
    assert!(
        md.contains("- **Onboard service**: has customers inside the organisation or among partners, but no chain reaches an end customer"),
        "{md}"
    );
    assert!(
        md.contains("- **Archive**: far from the customer, and nobody has told them who it is"),
        "{md}"
    );
    let fi = I18n::new("fi", "fi");
    let md_fi = kohtaamo_app::report::markdown(
        "Rautatie",
        &snapshot,
        &after.insight,
        &fi,
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    );
    assert!(md_fi.contains("1.6.2026"), "{md_fi}");
    assert_ne!(md, md_fi);
}

#[tokio::test]
async fn jobs_run_once_through_the_scheduler_on_a_fixed_day() {
    let w = world().await;
    // A rule: the restaurant car's NPS below 50 over 7-day periods.
    let rule = AlertRuleInput::deserialize_json(json!({
        "scope": "touchpoint", "key": w.car_tp.to_string(),
        "metric": "nps", "condition": "below", "threshold": 50.0, "period_days": 7
    }));
    w.store
        .create(w.ws, &rule.parse().expect("valid rule"))
        .await
        .unwrap();
    for n in 0..40 {
        w.answer(
            "car",
            &format!("car-{n:04}"),
            if n < 30 { 2 } else { 9 },
            None,
        )
        .await;
    }
    let day = today();
    // Today the period holding the answers is still running: no alert. The relation
    // (due 2026-04-01) is due on any day after that.
    let now = Scheduler::new(w.store.clone(), fixed(day))
        .every(std::time::Duration::from_secs(60), Job::ALERT_CYCLE)
        .every(std::time::Duration::ZERO, Job::REVIEW_CYCLE);
    assert_eq!(now.jobs().len(), 1, "a zero period leaves a job off");
    let ran = now.run_once().await;
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].0.name, "alert cycle");
    assert_eq!(*ran[0].1.as_ref().unwrap(), 0);
    // Before the relation fell due (2026-04-01) the review job has nothing to do.
    let early = JobCtx::new(
        w.store.clone(),
        fixed(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
    );
    assert_eq!(Job::REVIEW_CYCLE.run_once(&early).await.unwrap(), 0);
    // A week later the period is complete: one alert, to the unit owning the car; the
    // review cycle notifies the owner of the stale relation. Run again: nothing new.
    let later = Scheduler::new(w.store.clone(), fixed(day + Duration::days(7)))
        .every(std::time::Duration::from_secs(60), Job::ALERT_CYCLE)
        .every(std::time::Duration::from_secs(60), Job::REVIEW_CYCLE);
    let counts: Vec<usize> = later
        .run_once()
        .await
        .into_iter()
        .map(|(_, r)| r.unwrap())
        .collect();
    assert_eq!(counts, vec![1, 1]);
    let again: Vec<usize> = later
        .run_once()
        .await
        .into_iter()
        .map(|(_, r)| r.unwrap())
        .collect();
    assert_eq!(again, vec![0, 0], "once per period and due date");
    let alerts = w.store.alerts(w.ws, None, None, 10).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].unit_id, Some(w.unit_onboard));
    assert_eq!(alerts[0].n, 40);
}

/// Deserializes an input the way the API does.
trait FromJson: Sized {
    fn deserialize_json(v: serde_json::Value) -> Self;
}
impl<T: serde::de::DeserializeOwned> FromJson for T {
    fn deserialize_json(v: serde_json::Value) -> Self {
        serde_json::from_value(v).expect("input")
    }
}

/// Escalation on a fixed clock, with two instances (two connection pools on one
/// database) running every pass at once: each step is taken once, told to the right
/// people, and each e-mail arrives once at a real SMTP server.
#[tokio::test]
async fn follow_ups_escalate_once_on_two_instances_with_a_fixed_clock() {
    use kohtaamo_domain::followups::{Action, FollowUpRuleInput, Status};
    use kohtaamo_domain::model::{Role, UnitData};
    use kohtaamo_storage::followups::{Act, FollowUpFilter};

    let w = world().await;
    let server = smtp::SmtpServer::start();
    // Sales is the onboard service's parent unit.
    let snap = w.store.snapshot(w.ws).await.unwrap();
    let unit = |slug: &str| {
        snap.units
            .iter()
            .find(|(_, u)| u.slug.as_str() == slug)
            .unwrap()
            .0
    };
    let sales = unit("sales");
    let mut onboard = w
        .store
        .get::<UnitData>(w.ws, w.unit_onboard)
        .await
        .unwrap()
        .data;
    onboard.parent_id = Some(sales);
    w.store
        .update(w.ws, w.unit_onboard, &onboard)
        .await
        .unwrap();
    // anna works onboard, olli leads it, pia leads sales; each has an address.
    let mut ids = std::collections::HashMap::new();
    for (name, unit, lead) in [
        ("anna", w.unit_onboard, false),
        ("olli", w.unit_onboard, true),
        ("pia", sales, true),
    ] {
        let id = w
            .store
            .create_user(name, "a long enough password", false)
            .await
            .unwrap();
        w.store.set_member(w.ws, id, Role::Viewer).await.unwrap();
        w.store.add_unit_member(w.ws, unit, id, lead).await.unwrap();
        w.store
            .set_user_email(name, Some(&format!("{name}@example.fi")))
            .await
            .unwrap();
        ids.insert(name, id);
    }
    let rule: FollowUpRuleInput = serde_json::from_value(json!({
        "name": "Detractors", "trigger": "nps", "threshold": 6,
        "contact_hours": 24, "resolve_hours": 120
    }))
    .unwrap();
    let rule_id = w
        .store
        .create(w.ws, &rule.parse().unwrap())
        .await
        .unwrap()
        .id;
    // Both customers allow being contacted (the contact question); a third does not:
    // its follow-up is for learning only, so it has no contact clock to escalate.
    for (key, nps) in [("car-escalate-1", 2), ("car-escalate-2", 3)] {
        w.answer_with(
            "car",
            key,
            json!({"nps": nps, "contact": "+358 40 123 4567"}),
            None,
        )
        .await;
    }
    w.answer("car", "car-escalate-3", 1, None).await;
    let mut open = w
        .store
        .follow_ups(
            w.ws,
            &FollowUpFilter {
                open: true,
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(open.len(), 3);
    let internal = open
        .iter()
        .position(|f| !f.may_contact)
        .expect("learning only");
    let internal = open.remove(internal);
    assert_eq!(internal.contact, None);
    assert!(open
        .iter()
        .all(|f| f.contact.as_deref() == Some("+358401234567")));
    assert!(open
        .iter()
        .all(|f| f.unit_id == Some(w.unit_onboard) && f.status == Status::New));
    let opened = kohtaamo_storage::parse_time(&open[0].created_at).unwrap();
    let (first, second) = if open[0].response_key.as_deref() == Some("car-escalate-1") {
        (open[0].clone(), open[1].clone())
    } else {
        (open[1].clone(), open[0].clone())
    };

    // The second one waits for the customer from 10 h to 40 h: its clocks stand still
    // for 30 h, so its first contact falls due at 54 h, not 24 h.
    let at = |h: i64| kohtaamo_storage::time_text(opened + Duration::hours(h));
    // The second one's own clock (the two answers may fall in different seconds).
    let opened2 = kohtaamo_storage::parse_time(&second.created_at).unwrap();
    let at2 = |h: i64| kohtaamo_storage::time_text(opened2 + Duration::hours(h));
    let step = |action, h| Act {
        action,
        assignee_id: None,
        root_cause: None,
        action_taken: None,
        note: Some("asked for the receipt".into()),
        by: "user:anna".into(),
        at: at(h),
        mails: vec![],
    };
    let anna = (ids["anna"], Role::Viewer);
    let hooks = JobCtx::new(w.store.clone(), Arc::new(SystemClock));
    // Without consent there is no contact step.
    let e =
        kohtaamo_app::followups::act(&hooks, w.ws, internal.id, anna, &step(Action::Contact, 1))
            .await;
    assert!(
        matches!(e, Err(Error::Invalid(ref f)) if f.0["action"].code == "no-consent"),
        "{e:?}"
    );
    kohtaamo_app::followups::act(&hooks, w.ws, second.id, anna, &step(Action::Wait, 10))
        .await
        .unwrap();
    let again =
        kohtaamo_app::followups::act(&hooks, w.ws, second.id, anna, &step(Action::Wait, 11)).await;
    assert!(
        matches!(again, Err(Error::Invalid(_))),
        "waiting twice is refused"
    );
    let resumed =
        kohtaamo_app::followups::act(&hooks, w.ws, second.id, anna, &step(Action::Resume, 40))
            .await
            .unwrap();
    assert_eq!(resumed.paused_seconds, 30 * 3600);
    assert_eq!(resumed.contact_due, at2(54));
    assert_eq!(resumed.resolve_due, at2(150));

    // Two instances, each its own pool and its own clock object on the same time.
    let other = Store::connect(&w._db.url).await.expect("second instance");
    let run_both = |h: i64, job: Job| {
        let clock =
            Arc::new(kohtaamo_app::clock::FixedClock(opened + Duration::hours(h))) as SharedClock;
        let a = JobCtx::new(w.store.clone(), clock.clone()).with_mailer(Some(server.mailer()));
        let b = JobCtx::new(other.clone(), clock).with_mailer(Some(server.mailer()));
        async move {
            let (x, y) = tokio::join!(job.run_once(&a), job.run_once(&b));
            x.unwrap() + y.unwrap()
        }
    };
    assert_eq!(
        run_both(23, Job::FOLLOW_UP_CLOCK).await,
        0,
        "nothing is due before 24 h"
    );
    // 25 h: the first one's contact is overdue; nobody is assigned, so the unit's
    // members are told. The second waits until 54 h.
    assert_eq!(run_both(25, Job::FOLLOW_UP_CLOCK).await, 1);
    assert_eq!(
        run_both(25, Job::FOLLOW_UP_CLOCK).await,
        0,
        "each step once"
    );
    // 49 h: the lead; 57 h: the second one's first step; 73 h: the parent unit.
    assert_eq!(run_both(49, Job::FOLLOW_UP_CLOCK).await, 1);
    assert_eq!(run_both(57, Job::FOLLOW_UP_CLOCK).await, 1);
    assert_eq!(run_both(73, Job::FOLLOW_UP_CLOCK).await, 1);
    let steps = w.store.follow_up_escalations(w.ws, first.id).await.unwrap();
    let names: Vec<(&str, &str)> = steps
        .iter()
        .map(|(c, s, _)| (c.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("contact", "assignee"),
            ("contact", "lead"),
            ("contact", "parent")
        ]
    );
    let events = w.store.follow_up_events(w.ws, first.id).await.unwrap();
    let told: Vec<&str> = events
        .iter()
        .filter(|e| e.action == Action::Escalate)
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        told,
        vec![
            "contact:assignee:anna, olli",
            "contact:lead:olli",
            "contact:parent:pia"
        ]
    );

    // A rule's new targets apply to the open follow-ups it opened: the second one's
    // resolution, 120 h + 30 h paused, moves to 200 h + 30 h.
    let mut changed = w
        .store
        .get::<kohtaamo_domain::followups::FollowUpRuleData>(w.ws, rule_id)
        .await
        .unwrap()
        .data;
    changed.resolve_hours = 200;
    kohtaamo_app::model::update(&w.store, w.ws, rule_id, &changed)
        .await
        .unwrap();
    let retimed = w.store.follow_up(w.ws, second.id).await.unwrap();
    assert_eq!(
        (retimed.resolve_hours, retimed.resolve_due.clone()),
        (200, at2(230))
    );
    assert_eq!(
        retimed.contact_due,
        at2(54),
        "a clock's due time keeps its pause"
    );

    // pia gives the second one to anna, who hears of it by e-mail (she gave none to
    // herself: no mail then).
    let mailing =
        JobCtx::new(w.store.clone(), Arc::new(SystemClock)).with_mailer(Some(server.mailer()));
    let mut give = step(Action::Assign, 60);
    give.assignee_id = Some(ids["anna"]);
    give.by = "user:pia".into();
    kohtaamo_app::followups::act(&mailing, w.ws, second.id, (ids["pia"], Role::Admin), &give)
        .await
        .unwrap();
    // The mail job, on both instances at once: every queued message sent once.
    assert_eq!(run_both(74, Job::MAIL).await, 7);
    assert_eq!(
        run_both(75, Job::MAIL).await,
        0,
        "a sent message is not sent again"
    );
    let got = server.received();
    let to: Vec<&str> = got.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(
        to,
        vec![
            "anna@example.fi",
            "anna@example.fi",
            "anna@example.fi",
            "olli@example.fi",
            "olli@example.fi",
            "olli@example.fi",
            "pia@example.fi"
        ]
    );
    // The workspace speaks Finnish; the link points at the follow-up.
    let pia = got
        .iter()
        .find(|m| m.to == "pia@example.fi")
        .expect("the parent unit's lead");
    assert_eq!(
        pia.subject,
        format!(
            "Jatkotoimi {}: ensimmäisen yhteydenoton tavoiteaika ylittyi",
            first.id
        )
    );
    assert!(
        pia.body
            .contains(&format!("/w/rail/follow-ups/{}", first.id)),
        "{}",
        pia.body
    );
    assert!(pia.body.contains("ylempänä yksikkönä"), "{}", pia.body);
    assert!(pia.from.contains("kohtaamo@example.fi"));
    let audit = w.store.audit_log(w.ws, 50).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "mail.sent").count(), 7);
    assert!(got
        .iter()
        .any(|m| m.subject == format!("Jatkotoimi {} on sinun", second.id)));
}

/// A message the server cannot take stays queued and is retried after a backoff; once
/// the server answers it is sent, once.
#[tokio::test]
async fn mail_is_retried_with_backoff_until_the_server_answers() {
    use kohtaamo_storage::mail::NewMail;
    let w = world().await;
    let t0 = chrono::Utc::now();
    let msg = NewMail {
        unsubscribe: None,
        dedupe: "test:1".into(),
        kind: "test".into(),
        to: "someone@example.fi".into(),
        subject: "Hei".into(),
        body: "Hei, tämä on testi.".into(),
    };
    w.store
        .queue_mail(
            Some(w.ws),
            std::slice::from_ref(&msg),
            &kohtaamo_storage::time_text(t0),
        )
        .await
        .unwrap();
    w.store
        .queue_mail(Some(w.ws), &[msg], &kohtaamo_storage::time_text(t0))
        .await
        .unwrap();
    // Nobody listens on this port.
    let settings = smtp::settings_for(smtp::free_port());
    let ctx = |secs: i64, mailer| {
        JobCtx::new(
            w.store.clone(),
            Arc::new(kohtaamo_app::clock::FixedClock(
                t0 + Duration::seconds(secs),
            )) as SharedClock,
        )
        .with_mailer(Some(mailer))
    };
    let down = kohtaamo_app::mail::Mailer::new(&settings).unwrap();
    assert_eq!(Job::MAIL.run_once(&ctx(1, down.clone())).await.unwrap(), 0);
    let q = w.store.mail_of(w.ws, 10).await.unwrap();
    assert_eq!(q.len(), 1, "queued once per key");
    assert_eq!((q[0].status.as_str(), q[0].attempts), ("queued", 1));
    assert!(q[0]
        .last_error
        .as_deref()
        .is_some_and(|e| e.starts_with("SMTP")));
    // Within the backoff (a minute) nothing is tried.
    assert_eq!(Job::MAIL.run_once(&ctx(30, down)).await.unwrap(), 0);
    assert_eq!(w.store.mail_of(w.ws, 10).await.unwrap()[0].attempts, 1);
    let server = smtp::SmtpServer::start();
    assert_eq!(
        Job::MAIL
            .run_once(&ctx(120, server.mailer()))
            .await
            .unwrap(),
        1
    );
    let q = w.store.mail_of(w.ws, 10).await.unwrap();
    assert_eq!((q[0].status.as_str(), q[0].attempts), ("sent", 2));
    assert_eq!(server.received().len(), 1);
    assert_eq!(server.received()[0].body.trim(), "Hei, tämä on testi.");
}

/// Closing a follow-up whose customer gave an e-mail address with their consent sends
/// the one-question recovery survey (real SMTP); a poor answer reopens it, a good one
/// counts as recovered; the link answers once per closing and a wrong token finds
/// nothing.
#[tokio::test]
async fn the_recovery_survey_reaches_a_consenting_customer_and_a_poor_answer_reopens() {
    use kohtaamo_app::followups as fu;
    use kohtaamo_domain::followups::{Action, FollowUpRuleInput, Status};
    use kohtaamo_domain::model::Role;
    use kohtaamo_storage::followups::{Act, FollowUpFilter, RecoveryOutcome};

    let w = world().await;
    let server = smtp::SmtpServer::start();
    let rule: FollowUpRuleInput =
        serde_json::from_value(json!({"name": "Detractors", "trigger": "nps", "threshold": 6}))
            .unwrap();
    w.store.create(w.ws, &rule.parse().unwrap()).await.unwrap();
    w.answer_with(
        "car",
        "car-rec-1",
        json!({"nps": 1, "contact": "liisa@example.fi"}),
        None,
    )
    .await;
    let f = w
        .store
        .follow_ups(
            w.ws,
            &FollowUpFilter {
                open: true,
                limit: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (f.may_contact, f.contact.as_deref()),
        (true, Some("liisa@example.fi"))
    );
    let hooks = JobCtx::new(w.store.clone(), Arc::new(SystemClock))
        .with_mailer(Some(server.mailer()))
        .with_base_url(Some("https://kohtaamo.example.fi".into()));
    let admin = (0, Role::Admin);
    let act = |action, cause: Option<&str>| Act {
        action,
        assignee_id: None,
        root_cause: cause.map(str::to_owned),
        action_taken: cause.map(|_| "Refund paid".to_owned()),
        note: None,
        by: "user:admin".into(),
        at: kohtaamo_storage::now_text(),
        mails: vec![],
    };
    fu::act(&hooks, w.ws, f.id, admin, &act(Action::Contact, None))
        .await
        .unwrap();
    let closed = fu::act(
        &hooks,
        w.ws,
        f.id,
        admin,
        &act(Action::Close, Some("process")),
    )
    .await
    .unwrap();
    assert_eq!(closed.status, Status::Closed);
    assert_eq!(Job::MAIL.run_once(&hooks).await.unwrap(), 1);
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, "liisa@example.fi");
    assert_eq!(got[0].subject, "Rautatie: saatiinko asiasi kuntoon?");
    let path = fu::recovery_path(&w.store, f.id).await.unwrap();
    assert!(
        got[0]
            .body
            .contains(&format!("https://kohtaamo.example.fi{path}")),
        "{}",
        got[0].body
    );
    let token = path.rsplit('/').next().unwrap().to_owned();
    assert_eq!(token.len(), 32, "128 bits");
    // A wrong token, or another follow-up's, finds nothing; a score off the scale is refused.
    assert!(matches!(
        fu::answer_recovery(&hooks, f.id, "0".repeat(32).as_str(), 5).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        fu::answer_recovery(&hooks, f.id + 1, &token, 5).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        fu::answer_recovery(&hooks, f.id, &token, 9).await,
        Err(Error::Invalid(_))
    ));
    // A poor answer reopens it (back to contacted), as the customer's step.
    assert_eq!(
        fu::answer_recovery(&hooks, f.id, &token, 2).await.unwrap(),
        RecoveryOutcome::Reopened
    );
    let (again, events) = fu::get(
        &w.store,
        w.ws,
        f.id,
        &kohtaamo_storage::privacy::Actor::system(),
    )
    .await
    .unwrap();
    assert_eq!(
        (again.status, again.recovery_score),
        (Status::Contacted, None)
    );
    let last: Vec<(&str, &str)> = events
        .iter()
        .rev()
        .take(2)
        .map(|e| (e.action.as_str(), e.by.as_str()))
        .collect();
    assert_eq!(last, vec![("reopen", "customer"), ("recovery", "customer")]);
    assert_eq!(
        events[events.len() - 2].detail,
        "2",
        "the answer stays in the history"
    );
    assert_eq!(
        fu::answer_recovery(&hooks, f.id, &token, 5).await.unwrap(),
        RecoveryOutcome::NotOpen,
        "only a closed one"
    );
    // Closed again: a new recovery e-mail, and a good answer is stored; once.
    fu::act(
        &hooks,
        w.ws,
        f.id,
        admin,
        &act(Action::Close, Some("information")),
    )
    .await
    .unwrap();
    assert_eq!(Job::MAIL.run_once(&hooks).await.unwrap(), 1);
    assert_eq!(
        fu::answer_recovery(&hooks, f.id, &token, 5).await.unwrap(),
        RecoveryOutcome::Stored
    );
    assert_eq!(
        fu::answer_recovery(&hooks, f.id, &token, 1).await.unwrap(),
        RecoveryOutcome::NotOpen,
        "answered once"
    );
    let done = w.store.follow_up(w.ws, f.id).await.unwrap();
    assert_eq!(
        (done.status, done.recovery_score),
        (Status::Closed, Some(5))
    );
}

/// A customer who gave their address gets an e-mail when their case moves to another
/// step — not for a status within the same step, not for a late change, not twice for
/// a retry — each with a working status-page link and a one-click unsubscribe link;
/// after unsubscribing, nothing more. A real SMTP server receives them.
#[tokio::test]
async fn case_step_changes_reach_a_subscribed_customer_until_they_unsubscribe() {
    use kohtaamo_app::cases as cs;
    use kohtaamo_app::encounters::Recorder;
    use kohtaamo_domain::cases::{CaseInput, StatusInput, StepsInput};
    use kohtaamo_domain::model::{JourneyData, Role};

    let w = world().await;
    let server = smtp::SmtpServer::start();
    let journey = w
        .store
        .list::<JourneyData>(w.ws, &ListQuery::all())
        .await
        .unwrap()
        .items[0]
        .id;
    let steps: StepsInput = serde_json::from_value(json!({"steps": [
        {"key": "received", "name": {"fi": "Vastaanotettu", "en": "Received"}, "next": {"fi": "Tarkistamme.", "en": "We check it."}, "expected_days": 2, "statuses": ["new", "triage"]},
        {"key": "checking", "name": {"fi": "Käsittelyssä", "en": "Being checked"}, "expected_days": 7, "statuses": ["checking"]},
        {"key": "done", "name": {"fi": "Valmis", "en": "Done"}, "statuses": ["paid"]}
    ]}))
    .unwrap();
    cs::set_steps(&w.store, w.ws, Role::Admin, journey, &steps)
        .await
        .unwrap();
    let hooks = JobCtx::new(w.store.clone(), Arc::new(SystemClock))
        .with_mailer(Some(server.mailer()))
        .with_base_url(Some("https://kohtaamo.example.fi".into()));
    let by = Recorder("user:admin".into());
    let now = chrono::Utc::now() - Duration::days(3);
    let input: CaseInput = serde_json::from_value(json!({
        "id": "claim-1", "journey_id": journey, "status": "new", "language": "en",
        "notify_email": "maija@example.fi", "at": now.to_rfc3339()
    }))
    .unwrap();
    // With e-mail off, an address is refused and nothing is stored.
    let off = cs::create(&w.store, w.ws, &by, &input, (now, None)).await;
    assert!(
        matches!(off, Err(Error::Invalid(ref e)) if e.0.contains_key("notify_email")),
        "{off:?}"
    );
    let (case, created) = cs::create(&w.store, w.ws, &by, &input, (now, Some(&hooks)))
        .await
        .unwrap();
    assert!(created);
    // A retry subscribes nothing twice.
    cs::create(&w.store, w.ws, &by, &input, (now, Some(&hooks)))
        .await
        .unwrap();
    assert_eq!(
        w.store
            .case_subscriptions(w.ws, case.id)
            .await
            .unwrap()
            .len(),
        1
    );
    let change = |status: &str, hours: i64| StatusInput {
        status: status.into(),
        at: Some((now + Duration::hours(hours)).to_rfc3339()),
        note: None,
        ask: None,
        ask_due: None,
    };
    let mv = |input: StatusInput| {
        let (store, hooks, by) = (&w.store, &hooks, &by);
        async move {
            cs::change(
                store,
                w.ws,
                case.id,
                by,
                &input,
                (chrono::Utc::now(), Some(hooks)),
            )
            .await
            .unwrap()
        }
    };
    mv(change("triage", 1)).await; // the same step: no message
    mv(change("checking", 5)).await; // another step: one message
    mv(change("checking", 5)).await; // a retry: nothing
    mv(change("new", 3)).await; // late (older than the current status): nothing
    assert_eq!(Job::MAIL.run_once(&hooks).await.unwrap(), 2);
    let got = server.received();
    assert_eq!(got.len(), 2, "{got:#?}");
    let reference = kohtaamo_domain::cases::shown_reference(&case.reference);
    let first = got
        .iter()
        .find(|m| m.subject.contains("Received"))
        .expect("the first message");
    assert!(first.subject.contains(&reference), "{}", first.subject);
    assert!(
        first.body.contains("each time your case moves"),
        "{}",
        first.body
    );
    let moved = got
        .iter()
        .find(|m| m.subject.contains("Being checked"))
        .expect("the step change");
    assert_eq!(moved.to, "maija@example.fi");
    assert!(
        moved.body.contains("Your case is now at: Being checked"),
        "{}",
        moved.body
    );
    // The message's status-page link opens the case; its unsubscribe link is the header's.
    let token = moved
        .body
        .split("https://kohtaamo.example.fi/s/")
        .nth(1)
        .and_then(|r| r.split(['?', '\n', '\r']).next())
        .expect("a status link");
    let opened = cs::public(&w.store, token.trim(), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(opened.map(|p| p.case.id), Some(case.id));
    assert_eq!(
        moved.list_unsubscribe_post.trim(),
        "List-Unsubscribe=One-Click"
    );
    let unsub = moved
        .list_unsubscribe
        .trim()
        .trim_start_matches("<https://kohtaamo.example.fi/s/u/")
        .trim_end_matches('>')
        .to_owned();
    assert!(
        moved.body.contains(&unsub),
        "the link in the text is the header's"
    );
    let (id, token) = unsub.split_once('/').expect("id/token");
    let id: i64 = id.parse().unwrap();
    assert!(
        cs::unsubscribe(&w.store, id, "0".repeat(32).as_str(), chrono::Utc::now())
            .await
            .unwrap()
            .is_none(),
        "a wrong token ends nothing"
    );
    assert!(cs::unsubscribe(&w.store, id, token, chrono::Utc::now())
        .await
        .unwrap()
        .is_some());
    mv(change("paid", 30)).await;
    assert_eq!(
        Job::MAIL.run_once(&hooks).await.unwrap(),
        0,
        "nothing after unsubscribing"
    );
    assert_eq!(server.received().len(), 2);
}

/// A person's whole record found by any of their identifiers, exported, erased in one
/// transaction with the rollups still equal to a recount, a dry run that changes
/// nothing, free text elsewhere naming them listed for review, the ledger and the
/// audit chain (verified, then tampered with and caught), and on SQLite the erased
/// words gone from the bytes of the database file and its WAL.
#[tokio::test]
async fn a_person_is_found_exported_and_erased_and_the_audit_chain_holds() {
    use kohtaamo_app::cases as cs;
    use kohtaamo_app::encounters::{self as enc, Recorder};
    use kohtaamo_app::privacy::{self as pv, SubjectInput};
    use kohtaamo_domain::cases::{CaseInput, StepsInput};
    use kohtaamo_domain::encounters::{EncounterInput, Source};
    use kohtaamo_domain::model::{JourneyData, Role};
    use kohtaamo_storage::privacy::Actor;

    let w = world().await;
    let server = smtp::SmtpServer::start();
    let hooks = JobCtx::new(w.store.clone(), Arc::new(SystemClock))
        .with_mailer(Some(server.mailer()))
        .with_base_url(Some("https://kohtaamo.example.fi".into()));
    let by = Recorder("user:admin".into());
    let now = chrono::Utc::now();
    let enc_input = |id: &str, customer: &str, text: &str, tp: Id| -> EncounterInput {
        serde_json::from_value(json!({
            "id": id, "at": (now - Duration::days(2)).to_rfc3339(), "touchpoint_id": tp,
            "customer": customer, "kind": "contact", "text": text
        }))
        .unwrap()
    };
    // Maija: known by her CRM number and her e-mail address (two customers, linked).
    enc::record(
        &w.store,
        w.ws,
        &[
            enc_input(
                "m-1",
                "crm:M-1",
                "Maija kysyi laukusta: sininen-matkalaukku-42",
                w.shop_tp,
            ),
            enc_input(
                "m-2",
                "email:maija@example.fi",
                "Maija soitti uudestaan",
                w.car_tp,
            ),
            // Ville's record mentions Maija's address: listed for review, kept.
            enc_input(
                "v-1",
                "crm:V-2",
                "Ville antoi vaimonsa osoitteen maija@example.fi",
                w.shop_tp,
            ),
            // … and her name in capitals: found in any letter case, Ä included.
            enc_input(
                "v-2",
                "crm:V-2",
                "Soittaja: MAIJA MEIKÄLÄINEN, Villen vaimo",
                w.car_tp,
            ),
        ],
        false,
        (Source::Api, &by),
        now,
    )
    .await
    .unwrap();
    enc::link(
        &w.store,
        w.ws,
        ("crm:M-1", "email:maija@example.fi"),
        "same person (asked on the phone)",
        &by,
    )
    .await
    .unwrap();
    let answer = |id: &'static str, customer: &'static str, nps: i64, text: &'static str| {
        let w = &w;
        async move {
            let live = w.feedback.live(&w.survey_key("car").await).await.unwrap();
            let input = ResponseInput {
                id: Some(id.into()),
                answers: serde_json::from_value(json!({"nps": nps, "contact": text})).unwrap(),
                complete: true,
                hidden: HiddenInput {
                    customer_ref: Some(customer.into()),
                    ..Default::default()
                },
                invitation: None,
            };
            w.feedback.submit(&live, input, None).await.expect("stored");
        }
    };
    answer("resp-maija-1", "crm:M-1", 3, "maija@example.fi").await;
    answer("resp-ville-01", "crm:V-2", 9, "ville@example.fi").await;
    answer("resp-ville-02", "crm:V-2", 7, "ville@example.fi").await;
    // Maija's case, with e-mail on its steps.
    let journey = w
        .store
        .list::<JourneyData>(w.ws, &ListQuery::all())
        .await
        .unwrap()
        .items[0]
        .id;
    let steps: StepsInput = serde_json::from_value(json!({"steps": [
        {"key": "received", "name": {"en": "Received"}, "next": {"en": "We check it."}, "statuses": ["new"]},
        {"key": "done", "name": {"en": "Done"}, "statuses": ["paid"]}
    ]}))
    .unwrap();
    cs::set_steps(&w.store, w.ws, Role::Admin, journey, &steps)
        .await
        .unwrap();
    let case_input: CaseInput = serde_json::from_value(json!({
        "id": "claim-maija", "journey_id": journey, "status": "new", "language": "en",
        "customer": "crm:M-1", "title": "Sininen matkalaukku kateissa",
        "notify_email": "maija@example.fi"
    }))
    .unwrap();
    cs::create(&w.store, w.ws, &by, &case_input, (now, Some(&hooks)))
        .await
        .unwrap();

    let officer = Actor::user(
        w.store
            .create_user("tietosuoja", "a long enough password", false)
            .await
            .unwrap(),
    );
    let who = SubjectInput {
        identifiers: vec!["email:Maija@Example.fi".into()],
        names: vec!["Maija Meikäläinen".into()],
        ..Default::default()
    };
    // Only a privacy officer or an admin.
    for role in [Role::Viewer, Role::Editor] {
        assert!(matches!(
            pv::export(&w.store, w.ws, (&officer, role), &who).await,
            Err(Error::Forbidden(_))
        ));
    }
    let bad = pv::export(
        &w.store,
        w.ws,
        (&officer, Role::Privacy),
        &SubjectInput::default(),
    )
    .await;
    assert!(
        matches!(bad, Err(Error::Invalid(ref e)) if e.0.contains_key("identifiers")),
        "{bad:?}"
    );

    let export = pv::export(&w.store, w.ws, (&officer, Role::Privacy), &who)
        .await
        .unwrap();
    assert!(export.found);
    let rows = |t: &str| export.record.tables.get(t).map_or(0, Vec::len);
    assert_eq!(rows("customers"), 2, "both linked customers");
    // Her two, and the one her case's opening recorded.
    assert_eq!(
        rows("encounters"),
        3,
        "{:#?}",
        export.record.tables.get("encounters")
    );
    assert_eq!(rows("responses"), 1);
    assert_eq!(rows("cases"), 1);
    assert_eq!(rows("case_subscriptions"), 1);
    assert!(rows("mail_queue") >= 1, "the confirmation e-mail");
    let answers = &export.record.tables["responses"][0]["answers"];
    assert_eq!(answers["nps"], json!(3), "answers as JSON: {answers}");
    let all = serde_json::to_string(&export).unwrap();
    assert!(
        !all.contains("V-2") && !all.contains("ville"),
        "nobody else's data"
    );
    // Her contact answer and her case e-mail.
    assert_eq!(export.consents.len(), 2, "{:#?}", export.consents);
    assert_eq!(
        export.record.tables["consents"].len(),
        2,
        "both kept in the consents table"
    );
    let case = export
        .consents
        .iter()
        .find(|c| c.kind == "case-updates")
        .unwrap();
    assert_eq!(case.contact.as_deref(), Some("maija@example.fi"));
    assert!(case.text.as_deref().is_some_and(|t| !t.is_empty()));
    assert!(export
        .consents
        .iter()
        .any(|c| c.kind == "contact-about-feedback"));

    // The bytes are in the files before the erasure (so the check after can fail).
    let file_bytes = |w: &World| -> Option<Vec<u8>> {
        let path = w.store.sqlite_file()?.to_owned();
        let mut b = std::fs::read(&path).unwrap();
        b.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        Some(b)
    };
    let contains =
        |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|x| x == needle.as_bytes());
    if let Some(b) = file_bytes(&w) {
        assert!(contains(&b, "sininen-matkalaukku-42"));
    }

    let before = pv::export(&w.store, w.ws, (&officer, Role::Admin), &who)
        .await
        .unwrap();
    let dry = pv::erase(&w.store, w.ws, (&officer, Role::Privacy), &who, true)
        .await
        .unwrap();
    assert!(dry.dry_run && dry.ledger_id.is_none());
    assert_eq!(dry.counts["encounters"], 3);
    assert_eq!(dry.counts["responses"], 1);
    assert_eq!(dry.counts["customers"], 2);
    assert_eq!(dry.counts["cases"], 1);
    let after_dry = pv::export(&w.store, w.ws, (&officer, Role::Admin), &who)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&before.record).unwrap(),
        serde_json::to_value(&after_dry.record).unwrap(),
        "a dry run changes nothing"
    );
    let ville_enc = |store: &Store| {
        let store = store.clone();
        let ws = w.ws;
        async move {
            store
                .encounters(
                    ws,
                    &kohtaamo_storage::encounters::EncounterFilter {
                        limit: 100,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.client_id.as_str().starts_with("v-"))
                .map(|e| (e.client_id.as_str().to_owned(), e.id))
                .collect::<BTreeMap<_, _>>()
        }
    };
    let ville = ville_enc(&w.store).await;
    assert_eq!(ville.len(), 2);
    assert!(
        dry.review.iter().any(|m| m.table == "encounters"
            && m.row == ville["v-1"]
            && m.term == "maija@example.fi"),
        "{:?}",
        dry.review
    );
    assert!(
        dry.review.iter().any(|m| m.table == "encounters"
            && m.row == ville["v-2"]
            && m.column == "text"
            && m.term == "maija meikäläinen"),
        "{:?}",
        dry.review
    );
    // Her own rows are erased, not listed.
    assert!(
        dry.review
            .iter()
            .all(|m| ville.values().any(|v| *v == m.row) || m.table != "encounters"),
        "{:?}",
        dry.review
    );

    let done = pv::erase(&w.store, w.ws, (&officer, Role::Privacy), &who, false)
        .await
        .unwrap();
    assert_eq!(
        done.counts, dry.counts,
        "the dry run showed exactly what went"
    );
    assert!(done.ledger_id.is_some());
    assert!(
        done.review.is_empty(),
        "the preview listed it; no second scan"
    );
    assert_eq!(ville_enc(&w.store).await, ville, "Ville's record stays");

    // Found by any identifier: nothing any more.
    for id in ["email:maija@example.fi", "crm:M-1"] {
        let q = SubjectInput {
            identifiers: vec![id.into()],
            ..Default::default()
        };
        let e = pv::export(&w.store, w.ws, (&officer, Role::Privacy), &q)
            .await
            .unwrap();
        assert!(!e.found, "{id}: {:#?}", e.record);
    }
    assert!(matches!(
        enc::timeline(&w.store, w.ws, "crm:M-1", 10, &officer).await,
        Err(Error::NotFound)
    ));

    // Rollups equal a recount of what is left.
    let from = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    let mut rolled = kohtaamo_domain::analytics::Tally::default();
    for r in w
        .store
        .tallies(w.ws, from, to, kohtaamo_storage::feedback::TallyBy::Group)
        .await
        .unwrap()
    {
        rolled += r.tally;
    }
    let mut recount = kohtaamo_domain::analytics::Tally::default();
    for r in w
        .store
        .responses(w.ws, None, &Default::default(), 100, 0)
        .await
        .unwrap()
        .items
    {
        recount += kohtaamo_domain::analytics::Tally::of(r.nps, r.csat, r.ces);
    }
    assert_eq!(rolled, recount);
    assert_eq!(recount.responses, 2, "Ville's two answers");
    let counted = w
        .store
        .encounter_counts(w.ws, "2000-01-01", "2100-01-01")
        .await
        .unwrap();
    let left = w
        .store
        .encounters(
            w.ws,
            &kohtaamo_storage::encounters::EncounterFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut recounted: std::collections::HashMap<Id, i64> = Default::default();
    for e in &left {
        if let Some(tp) = e.touchpoint_id {
            *recounted.entry(tp).or_default() += 1;
        }
    }
    counted.iter().for_each(|(tp, n)| {
        assert_eq!(
            recounted.get(tp).copied().unwrap_or(0),
            *n,
            "touchpoint {tp}"
        )
    });
    assert_eq!(
        recounted.values().sum::<i64>(),
        counted.values().sum::<i64>()
    );

    // Erasing again: nothing found, nothing written.
    let again = pv::erase(&w.store, w.ws, (&officer, Role::Privacy), &who, false)
        .await
        .unwrap();
    assert_eq!(again.total(), 0);
    assert!(again.ledger_id.is_none());
    let ledger = w.store.deletion_ledger(w.ws).await.unwrap();
    assert_eq!(ledger.len(), 1);
    let ledger_text = serde_json::to_string(&ledger).unwrap();
    assert!(
        !ledger_text.contains("maija") && !ledger_text.contains("M-1"),
        "keyed hashes only"
    );

    if let Some(b) = file_bytes(&w) {
        assert!(done.checkpointed);
        for gone in [
            "sininen-matkalaukku-42",
            "Maija soitti uudestaan",
            "Sininen matkalaukku kateissa",
        ] {
            assert!(
                !contains(&b, gone),
                "'{gone}' is still in the SQLite file or WAL"
            );
        }
    }

    // The audit trail: every look-up, preview and erasure, without the person's
    // identifiers; the chain verifies, and a changed entry is caught.
    let audit = w.store.audit_log(w.ws, 100).await.unwrap();
    for action in ["privacy.export", "privacy.preview", "privacy.erase"] {
        assert!(
            audit.iter().any(|a| a.action == action),
            "{action}: {audit:#?}"
        );
    }
    let audit_text = serde_json::to_string(&audit).unwrap();
    assert!(
        !audit_text.contains("maija") && !audit_text.contains("M-1"),
        "{audit_text}"
    );
    let check = pv::verify_audit(&w.store, w.ws, Role::Privacy)
        .await
        .unwrap();
    assert!(check.ok, "{check:?}");
    assert!(check.entries >= 5, "{check:?}");
    assert!(matches!(
        pv::verify_audit(&w.store, w.ws, Role::Viewer).await,
        Err(Error::Forbidden(_))
    ));
    sqlx::query("UPDATE audit_log SET detail = 'nothing happened' WHERE action = 'privacy.erase'")
        .execute(w.store.pool())
        .await
        .unwrap();
    let check = pv::verify_audit(&w.store, w.ws, Role::Admin).await.unwrap();
    assert!(!check.ok);
    assert_eq!(check.broken.map(|b| b.reason), Some("entry-changed"));
}

/// Retention with a fixed clock: a workspace's rules checked and stored, a preview
/// that matches what the run then changes, responses anonymised with their scores
/// still in every rollup, encounters deleted with the encounter rollups equal to a
/// recount, the oldest audit entries removed while the rest of the chain verifies,
/// two instances running at once changing each row once, and a second run changing
/// nothing.
#[tokio::test]
async fn retention_runs_on_a_fixed_clock_and_keeps_figures_exact() {
    use kohtaamo_app::encounters::{self as enc, Recorder};
    use kohtaamo_app::retention::{self as rt, RetentionInput};
    use kohtaamo_domain::encounters::{EncounterInput, Source};
    use kohtaamo_domain::model::Role;
    use kohtaamo_domain::privacy::Retained;
    use kohtaamo_storage::privacy::Actor;

    let w = world().await;
    let now = chrono::Utc::now();
    let by = Recorder("user:admin".into());
    let officer = Actor::user(
        w.store
            .create_user("tietosuoja", "a long enough password", false)
            .await
            .unwrap(),
    );
    for (i, nps) in [3, 9, 10, 6].into_iter().enumerate() {
        let live = w.feedback.live(&w.survey_key("car").await).await.unwrap();
        let input = ResponseInput {
            id: Some(format!("ret-resp-{i}")),
            answers: serde_json::from_value(json!({"nps": nps, "contact": "someone@example.fi"}))
                .unwrap(),
            complete: true,
            hidden: HiddenInput {
                customer_ref: Some(format!("crm:R-{i}")),
                ..Default::default()
            },
            invitation: None,
        };
        w.feedback.submit(&live, input, None).await.expect("stored");
    }
    let encounters: Vec<EncounterInput> = (0..5)
        .map(|i| {
            serde_json::from_value(json!({
                "id": format!("ret-enc-{i}"), "at": (now - Duration::days(10 * i)).to_rfc3339(),
                "touchpoint_id": if i % 2 == 0 { w.shop_tp } else { w.car_tp },
                "customer": format!("crm:R-{i}"), "kind": "contact", "text": "vanha muistiinpano"
            }))
            .unwrap()
        })
        .collect();
    enc::record(&w.store, w.ws, &encounters, false, (Source::Api, &by), now)
        .await
        .unwrap();
    // Audit entries to prune later.
    for i in 0..3 {
        w.store
            .audit(
                w.ws,
                &officer,
                "privacy.export",
                "subject #x",
                &format!("{i}"),
            )
            .await
            .unwrap();
    }

    // Rules: checked field by field, nothing stored when one is wrong.
    let bad = rt::set_rules(
        &w.store,
        w.ws,
        (&officer, Role::Privacy),
        &[
            RetentionInput {
                kind: "responses".into(),
                days: Some(30),
                action: "anonymise".into(),
            },
            RetentionInput {
                kind: "cases".into(),
                days: Some(30),
                action: "anonymise".into(),
            },
            RetentionInput {
                kind: "mail".into(),
                days: Some(0),
                action: "delete".into(),
            },
            RetentionInput {
                kind: "everything".into(),
                days: None,
                action: "delete".into(),
            },
        ],
    )
    .await;
    match bad {
        Err(Error::Invalid(e)) => {
            let keys: Vec<&String> = e.0.keys().collect();
            assert_eq!(keys, ["[1].action", "[2].days", "[3].kind"], "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(rt::rules(&w.store, w.ws)
        .await
        .unwrap()
        .iter()
        .all(|r| r.default));
    assert!(matches!(
        rt::set_rules(&w.store, w.ws, (&officer, Role::Editor), &[]).await,
        Err(Error::Forbidden(_))
    ));
    let set = rt::set_rules(
        &w.store,
        w.ws,
        (&officer, Role::Privacy),
        &[
            RetentionInput {
                kind: "responses".into(),
                days: Some(30),
                action: "anonymise".into(),
            },
            RetentionInput {
                kind: "encounters".into(),
                days: Some(60),
                action: "delete".into(),
            },
            RetentionInput {
                kind: "audit".into(),
                days: Some(30),
                action: "delete".into(),
            },
        ],
    )
    .await
    .unwrap();
    let rule = |k: Retained| set.iter().find(|r| r.kind == k).unwrap().clone();
    assert_eq!(rule(Retained::Responses).days, Some(30));
    assert!(!rule(Retained::Responses).default);
    assert_eq!(rule(Retained::Mail).days, Some(90), "the default stays");

    let tallies = |store: Store| async move {
        let from = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
        let mut t = kohtaamo_domain::analytics::Tally::default();
        for r in store
            .tallies(w.ws, from, to, kohtaamo_storage::feedback::TallyBy::Group)
            .await
            .unwrap()
        {
            t += r.tally;
        }
        t
    };
    let before = tallies(w.store.clone()).await;
    assert_eq!(before.responses, 4);

    // 31 days on: every response (30 days), the encounters older than 60 days then
    // (recorded 30 and 40 days before now).
    let later = now + Duration::days(31);
    let preview = rt::preview(&w.store, w.ws, Role::Privacy, later)
        .await
        .unwrap();
    let rows = |k: Retained| preview.iter().find(|p| p.kind == k).unwrap().rows;
    assert_eq!(rows(Retained::Responses), 4);
    assert_eq!(rows(Retained::Encounters), 2, "{preview:?}");
    assert!(rows(Retained::Audit) >= 6, "{preview:?}");
    assert_eq!(rows(Retained::Cases), 0);
    // Two instances at once: each row changed once.
    let (a, b) = tokio::join!(
        rt::run(&w.store, w.ws, later),
        rt::run(&w.store, w.ws, later)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let done = |k: Retained| a.get(&k).copied().unwrap_or(0) + b.get(&k).copied().unwrap_or(0);
    assert_eq!(done(Retained::Responses), 4, "{a:?} {b:?}");
    assert_eq!(done(Retained::Encounters), 2, "{a:?} {b:?}");
    // (The entry one run writes is stamped with the real time, which this fixed
    // clock 31 days on finds old: the other run may take it too.)
    assert!(
        done(Retained::Audit) >= rows(Retained::Audit),
        "{a:?} {b:?}"
    );

    let left = w
        .store
        .responses(w.ws, None, &Default::default(), 100, 0)
        .await
        .unwrap()
        .items;
    assert_eq!(left.len(), 4);
    for r in &left {
        assert_eq!(r.customer_ref, None);
        let answers = serde_json::to_value(&r.answers).unwrap();
        assert!(answers.get("contact").is_none(), "{answers}");
        assert!(answers.get("nps").is_some(), "{answers}");
    }
    assert_eq!(
        tallies(w.store.clone()).await,
        before,
        "scores stay in every figure"
    );
    let counted = w
        .store
        .encounter_counts(w.ws, "2000-01-01", "2100-01-01")
        .await
        .unwrap();
    let kept = w
        .store
        .encounters(
            w.ws,
            &kohtaamo_storage::encounters::EncounterFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(kept.len(), 3);
    assert_eq!(counted.values().sum::<i64>(), 3, "{counted:?}");
    let check = kohtaamo_app::privacy::verify_audit(&w.store, w.ws, Role::Privacy)
        .await
        .unwrap();
    assert!(
        check.ok,
        "the kept chain verifies from where retention cut: {check:?}"
    );
    let audit = w.store.audit_log(w.ws, 100).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "retention.run"));
    assert!(
        !audit.iter().any(|a| a.action == "privacy.export"),
        "the old entries are gone"
    );

    // Nothing left to do.
    assert!(rt::run(&w.store, w.ws, later)
        .await
        .unwrap()
        .iter()
        .all(|(k, _)| *k == Retained::Audit));
    let again = rt::preview(&w.store, w.ws, Role::Privacy, later)
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .filter(|p| p.kind != Retained::Audit)
            .all(|p| p.rows == 0),
        "{again:?}"
    );
}

/// Consent: a contact answer records the consent with the question's words and their
/// version; a status page subscription is one too; withdrawing stops contact at once
/// (queued e-mail cancelled, nothing sent, no e-mail on the case's next step) and the
/// export shows both consents withdrawn.
#[tokio::test]
async fn consents_are_recorded_and_withdrawal_stops_contact_at_once() {
    use kohtaamo_app::cases as cs;
    use kohtaamo_app::encounters::Recorder;
    use kohtaamo_app::privacy::{self as pv, SubjectInput};
    use kohtaamo_domain::cases::{CaseInput, StatusInput, StepsInput};
    use kohtaamo_domain::model::{JourneyData, Role};
    use kohtaamo_storage::privacy::Actor;

    let w = world().await;
    let server = smtp::SmtpServer::start();
    let hooks = JobCtx::new(w.store.clone(), Arc::new(SystemClock))
        .with_mailer(Some(server.mailer()))
        .with_base_url(Some("https://kohtaamo.example.fi".into()));
    let live = w.feedback.live(&w.survey_key("car").await).await.unwrap();
    let input = || ResponseInput {
        id: Some("consent-resp-1".into()),
        answers: serde_json::from_value(json!({"nps": 4, "contact": "liisa@example.fi"})).unwrap(),
        complete: true,
        hidden: HiddenInput {
            customer_ref: Some("crm:L-77".into()),
            locale: Some("en".into()),
            ..Default::default()
        },
        invitation: None,
    };
    w.feedback.submit(&live, input(), None).await.unwrap();
    w.feedback.submit(&live, input(), None).await.unwrap(); // a retry records nothing twice
    let journey = w
        .store
        .list::<JourneyData>(w.ws, &ListQuery::all())
        .await
        .unwrap()
        .items[0]
        .id;
    let steps: StepsInput = serde_json::from_value(json!({"steps": [
        {"key": "received", "name": {"en": "Received"}, "statuses": ["new"]},
        {"key": "checking", "name": {"en": "Being checked"}, "statuses": ["checking"]},
        {"key": "done", "name": {"en": "Done"}, "statuses": ["paid"]}
    ]}))
    .unwrap();
    cs::set_steps(&w.store, w.ws, Role::Admin, journey, &steps)
        .await
        .unwrap();
    let by = Recorder("user:admin".into());
    let now = chrono::Utc::now();
    let case_input: CaseInput = serde_json::from_value(json!({
        "id": "claim-liisa", "journey_id": journey, "status": "new", "language": "en",
        "customer": "crm:L-77", "notify_email": "liisa@example.fi"
    }))
    .unwrap();
    let (case, _) = cs::create(&w.store, w.ws, &by, &case_input, (now, Some(&hooks)))
        .await
        .unwrap();

    let officer = Actor::user(
        w.store
            .create_user("dpo", "a long enough password", false)
            .await
            .unwrap(),
    );
    let who = SubjectInput {
        identifiers: vec!["crm:L-77".into()],
        ..Default::default()
    };
    let export = pv::export(&w.store, w.ws, (&officer, Role::Privacy), &who)
        .await
        .unwrap();
    assert_eq!(export.consents.len(), 2, "{:#?}", export.consents);
    let case_mail = export
        .consents
        .iter()
        .find(|c| c.kind == "case-updates")
        .unwrap();
    assert_eq!(
        (case_mail.channel.as_str(), case_mail.contact.as_deref()),
        ("api", Some("liisa@example.fi"))
    );
    assert_eq!(
        export.record.tables["consents"].len(),
        2,
        "both kept in the consents table"
    );
    let survey = export
        .consents
        .iter()
        .find(|c| c.kind == "contact-about-feedback")
        .unwrap();
    assert_eq!(survey.channel, "survey");
    assert_eq!(survey.contact.as_deref(), Some("liisa@example.fi"));
    let words = survey.text.clone().unwrap();
    assert!(
        words.starts_with("May we contact you about your answer?"),
        "in the language answered in: {words}"
    );
    assert_eq!(
        survey.version,
        Some(kohtaamo_domain::privacy::consent_version(&words))
    );
    assert!(export.consents.iter().all(|c| c.withdrawn_at.is_none()));

    // Withdrawn before the queued confirmation went out.
    let done = pv::withdraw(&w.store, w.ws, (&officer, Role::Privacy), &who)
        .await
        .unwrap();
    // The survey's consent and the case e-mail's (recorded with the subscription).
    assert_eq!((done.consents, done.subscriptions), (2, 1), "{done:?}");
    assert!(done.mail_cancelled >= 1, "{done:?}");
    assert!(matches!(
        pv::withdraw(&w.store, w.ws, (&officer, Role::Editor), &who).await,
        Err(Error::Forbidden(_))
    ));
    let status = StatusInput {
        status: "checking".into(),
        at: None,
        note: None,
        ask: None,
        ask_due: None,
    };
    cs::change(
        &w.store,
        w.ws,
        case.id,
        &by,
        &status,
        (chrono::Utc::now(), Some(&hooks)),
    )
    .await
    .unwrap();
    assert_eq!(Job::MAIL.run_once(&hooks).await.unwrap(), 0);
    assert!(
        server.received().is_empty(),
        "nothing sent after withdrawal"
    );
    let export = pv::export(&w.store, w.ws, (&officer, Role::Privacy), &who)
        .await
        .unwrap();
    assert!(
        export.consents.iter().all(|c| c.withdrawn_at.is_some()),
        "{:#?}",
        export.consents
    );
    assert!(w
        .store
        .audit_log(w.ws, 20)
        .await
        .unwrap()
        .iter()
        .any(|a| a.action == "privacy.withdraw"));
    // Withdrawing again changes nothing more.
    let again = pv::withdraw(&w.store, w.ws, (&officer, Role::Privacy), &who)
        .await
        .unwrap();
    assert_eq!(
        (again.consents, again.subscriptions, again.mail_cancelled),
        (0, 0, 0)
    );
}

/// The scheduler keeps the default report (the last 90 days) of a journey someone
/// asked about computed: nothing before anyone asks; once asked (for another period),
/// that journey's default report in the reader's language, once per change of the
/// encounters; after new encounters the next reader gets the current report at once.
#[tokio::test]
async fn the_default_report_of_an_asked_about_journey_is_kept_computed() {
    use kohtaamo_app::encounters::{self as enc, Recorder};
    use kohtaamo_app::mining::{self as mn, Query};
    use kohtaamo_domain::encounters::{EncounterInput, Source};

    let w = world().await;
    let journey = w.store.snapshot(w.ws).await.unwrap().journeys[0].0;
    let now = chrono::Utc::now();
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let case = |c: &str, t: chrono::DateTime<chrono::Utc>| -> Vec<EncounterInput> {
        [(w.shop_tp, 0), (w.car_tp, 1)]
            .iter()
            .map(|(tp, h)| {
                serde_json::from_value(json!({"id": format!("{c}-{h}"),
                    "at": at(t + Duration::hours(*h)), "touchpoint_id": tp,
                    "customer": "crm:A", "case_ref": c, "kind": "contact"}))
                .unwrap()
            })
            .collect()
    };
    let by = Recorder::user("admin");
    let record = |rows: Vec<EncounterInput>| {
        let by = by.clone();
        let store = w.store.clone();
        async move {
            enc::record(&store, w.ws, &rows, false, (Source::Api, &by), now)
                .await
                .unwrap();
        }
    };
    record(case("c1", now - Duration::days(60))).await;
    let ctx = JobCtx::new(w.store.clone(), Arc::new(SystemClock));
    assert_eq!(
        Job::MINING_REPORTS.run_once(&ctx).await.unwrap(),
        0,
        "nobody asked"
    );

    let fi = I18n::new("fi", "fi");
    let none = BTreeMap::new();
    let last_week = Query::parse(journey, (today() - Duration::days(6), today()), &none).unwrap();
    let default = Query::parse(journey, (today() - Duration::days(89), today()), &none).unwrap();
    assert_eq!(
        mn::mine(&w.store, w.ws, &last_week, &fi)
            .await
            .unwrap()
            .instances,
        0
    );
    assert_eq!(
        Job::MINING_REPORTS.run_once(&ctx).await.unwrap(),
        1,
        "the default report of the journey asked about"
    );
    assert_eq!(
        Job::MINING_REPORTS.run_once(&ctx).await.unwrap(),
        0,
        "kept for the encounters as they are"
    );
    // What a reader gets without waiting: the kept report, current.
    let at_once = || async {
        let (_, m) = mn::mine_within(
            &w.store,
            w.ws,
            &default,
            &fi,
            Some(std::time::Duration::ZERO),
        )
        .await
        .unwrap()
        .expect("kept: given at once");
        assert!(m.cached && !m.stale, "{m:?}");
        m
    };
    let kept = at_once().await;
    assert_eq!(kept.instances, 1);

    // New encounters: computed again, and the reader gets the current report at once.
    record(case("c2", now - Duration::days(3))).await;
    assert_eq!(Job::MINING_REPORTS.run_once(&ctx).await.unwrap(), 1);
    let now_kept = at_once().await;
    assert_eq!((now_kept.instances, now_kept.encounters), (2, 4));
}

/// Journey mining through the use case: instances by case and by customer (split at
/// pauses longer than the gap), the answers joined to them, deviations, hand-offs,
/// fitness, the Petri net, the event log, and bad queries refused with every field.
#[tokio::test]
async fn journey_mining_reads_instances_and_joins_their_answers() {
    use kohtaamo_app::encounters::{self as enc, Recorder};
    use kohtaamo_app::mining::{self as mn, Query};
    use kohtaamo_domain::encounters::{EncounterInput, Source};

    let w = world().await;
    // The restaurant car becomes optional: the stage's one alternative is the shop.
    let mut car_tp = w.store.get::<TouchpointData>(w.ws, w.car_tp).await.unwrap();
    car_tp.data.presence = kohtaamo_domain::model::Presence::Optional;
    w.store.update(w.ws, w.car_tp, &car_tp.data).await.unwrap();
    let journey = w.store.snapshot(w.ws).await.unwrap().journeys[0].0;
    let now = chrono::Utc::now();
    let t0 = now - Duration::days(10);
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let e = |id: &str, t, tp: Id, customer: &str, case: &str| -> EncounterInput {
        serde_json::from_value(json!({"id": id, "at": at(t), "touchpoint_id": tp,
            "customer": customer, "case_ref": case, "kind": "contact"}))
        .unwrap()
    };
    let (shop, car) = (w.shop_tp, w.car_tp);
    let rows = [
        // c1: the shop, then the car: fits; a hand-off sales → onboard.
        e("1", t0, shop, "crm:A", "c1"),
        e("2", t0 + Duration::hours(1), car, "crm:A", "c1"),
        // c2: the car alone: the shop (the stage's alternative) is missing.
        e("3", t0 + Duration::hours(2), car, "crm:B", "c2"),
        // c3, nine days later: the shop twice (rework), then the car.
        e("4", t0 + Duration::days(9), shop, "crm:A", "c3"),
        e(
            "5",
            t0 + Duration::days(9) + Duration::hours(1),
            shop,
            "crm:A",
            "c3",
        ),
        e(
            "6",
            t0 + Duration::days(9) + Duration::hours(2),
            car,
            "crm:A",
            "c3",
        ),
    ];
    let by = Recorder::user("admin");
    enc::record(&w.store, w.ws, &rows, false, (Source::Api, &by), now)
        .await
        .unwrap();
    // One answer of case c1 (customer A, now): NPS 10.
    let live = w
        .feedback
        .live(&w.survey_key("whole-trip").await)
        .await
        .unwrap();
    let input = ResponseInput {
        id: Some("mining-answer".into()),
        answers: serde_json::from_value(json!({"nps": 10})).unwrap(),
        complete: true,
        hidden: HiddenInput {
            case_ref: Some("c1".into()),
            customer_ref: Some("crm:A".into()),
            ..Default::default()
        },
        invitation: None,
    };
    w.feedback.submit(&live, input, None).await.expect("stored");

    let i = I18n::new("en", "fi");
    let period = (t0.date_naive(), today());
    let q = |params: &[(&str, &str)]| {
        let m: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Query::parse(journey, period, &m)
    };
    let by_case = mn::mine(&w.store, w.ws, &q(&[]).unwrap(), &i)
        .await
        .unwrap();
    assert_eq!(
        (by_case.by.as_str(), by_case.instances, by_case.encounters),
        ("case", 3, 6)
    );
    let variant = |m: &mn::JourneyMining, path: &[&str]| {
        m.variants
            .iter()
            .find(|v| v.path == path)
            .unwrap_or_else(|| panic!("no variant {path:?}"))
            .clone()
    };
    let fits = variant(&by_case, &["ticket-shop", "restaurant-car"]);
    assert_eq!(
        (fits.instances, fits.fitness, fits.scores.answers),
        (1, 1.0, 1)
    );
    assert!(variant(&by_case, &["restaurant-car"]).fitness < 1.0);
    assert_eq!(by_case.fitness.fitting_instances, 1);
    let dev = |kind: &str| by_case.deviations.iter().find(|d| d.kind == kind).cloned();
    let rework = dev("rework").expect("rework");
    assert_eq!(
        (rework.instances, rework.activity.unwrap().label.as_str()),
        (1, "ticket-shop")
    );
    assert_eq!(rework.examples[0].case_ref.as_deref(), Some("c3"));
    assert!(
        dev("skipped_stage").is_none(),
        "a one-stage journey skips nothing"
    );
    let hand = &by_case.hand_offs;
    assert_eq!(hand.len(), 1);
    assert_eq!(
        (hand[0].from.slug.as_str(), hand[0].to.slug.as_str()),
        ("sales", "onboard")
    );
    assert_eq!(
        (hand[0].count, hand[0].instances, hand[0].designed),
        (2, 2, true)
    );
    assert_eq!(by_case.scores.answers, 1);
    let edge = by_case
        .edges
        .iter()
        .find(|e| e.from.label == "ticket-shop" && e.to.label == "restaurant-car")
        .unwrap();
    assert_eq!((edge.count, edge.median_seconds), (2, 3600.0));

    // By customer: A's encounters nine days apart are two instances with a week's gap,
    // one with a month's; the answer (given now) belongs to A's later instance.
    let week = mn::mine(&w.store, w.ws, &q(&[("by", "customer")]).unwrap(), &i)
        .await
        .unwrap();
    assert_eq!(week.instances, 3);
    assert_eq!(
        variant(&week, &["ticket-shop", "ticket-shop", "restaurant-car"])
            .scores
            .answers,
        1
    );
    assert_eq!(
        variant(&week, &["ticket-shop", "restaurant-car"])
            .scores
            .answers,
        0
    );
    let month = mn::mine(
        &w.store,
        w.ws,
        &q(&[("by", "customer"), ("gap_hours", "720")]).unwrap(),
        &i,
    )
    .await
    .unwrap();
    assert_eq!(month.instances, 2);
    assert_eq!(month.variants[0].instances, 1);

    // The Petri net and the event log.
    let (_, net, xml) = mn::pnml(&w.store, w.ws, journey).await.unwrap();
    assert_eq!(net.transitions.len(), 2);
    assert!(
        xml.contains("<transition id=\"t-ticket-shop\">") && xml.contains("<finalmarkings>"),
        "{xml}"
    );
    let reader = kohtaamo_storage::privacy::Actor::user(
        w.store
            .create_user("analyst", "a long enough password", false)
            .await
            .unwrap(),
    );
    let csv = kohtaamo_app::event_logs::export(
        &w.store,
        w.ws,
        &q(&[]).unwrap(),
        kohtaamo_app::event_logs::Format::Csv,
        &reader,
    )
    .await
    .unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 1 + 6, "{text}");
    assert!(text.starts_with(
        "case_id,activity,timestamp,touchpoint,stage,channel,unit,partner,case_ref,customer"
    ));

    // Every bad field at once; an unknown journey.
    match q(&[("by", "person"), ("gap_hours", "0"), ("variants", "x")]) {
        Err(Error::Invalid(f)) => {
            for k in ["by", "gap_hours", "variants"] {
                assert!(f.0.contains_key(k), "{k}: {f}");
            }
        }
        other => panic!("{other:?}"),
    }
    let mut unknown = q(&[]).unwrap();
    unknown.journey = 999_999;
    assert!(matches!(
        mn::mine(&w.store, w.ws, &unknown, &i).await,
        Err(Error::NotFound)
    ));
}

/// Event logs in and out: a journey's instances exported as XES, read into another
/// workspace with the same model (through the CSV import's checks), and exported again
/// give the same XES; a second import stores nothing twice; the OCEL 2.0 export reads
/// back with its customers and cases as objects; a file that is not XES is refused.
#[tokio::test]
async fn event_logs_round_trip_through_xes() {
    use kohtaamo_app::encounter_import::{import_csv, Mapping};
    use kohtaamo_app::encounters::{self as enc, Recorder};
    use kohtaamo_app::event_logs::{export, xes_to_csv, Format};
    use kohtaamo_app::mining::Query;
    use kohtaamo_domain::encounters::{EncounterInput, Source};
    use kohtaamo_storage::privacy::Actor;

    let w = world().await;
    let now = chrono::Utc::now();
    let t0 = now - Duration::days(5);
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut rows: Vec<EncounterInput> = vec![];
    for c in 0..20i64 {
        let tps = if c % 3 == 0 {
            vec!["ticket-shop"]
        } else {
            vec!["ticket-shop", "restaurant-car", "ticket-shop"]
        };
        for (k, tp) in tps.iter().enumerate() {
            rows.push(
                serde_json::from_value(json!({"id": format!("e{c}-{k}"), "at": at(t0 + Duration::minutes(c * 60 + k as i64 * 7)),
                    "touchpoint": tp, "customer": format!("crm:C{}", c % 7), "case_ref": format!("K-{c}"), "kind": "contact"}))
                .unwrap(),
            );
        }
    }
    // One encounter at no touchpoint, by phone, owned by the onboard unit.
    rows.push(
        serde_json::from_value(json!({"id": "phone", "at": at(t0 + Duration::minutes(30)), "channel": "phone",
            "owner": {"unit": w.unit_onboard}, "case_ref": "K-0", "customer": "crm:C0", "kind": "contact"}))
        .unwrap(),
    );
    let by = Recorder::user("admin");
    enc::record(&w.store, w.ws, &rows, false, (Source::Api, &by), now)
        .await
        .unwrap();
    let reader = Actor::user(
        w.store
            .create_user("exporter", "a long enough password", false)
            .await
            .unwrap(),
    );
    let journey_of = |ws| {
        let store = w.store.clone();
        async move { store.snapshot(ws).await.unwrap().journeys[0].0 }
    };
    let period = (t0.date_naive(), today());
    let q = |j| Query::parse(j, period, &BTreeMap::new()).unwrap();
    let first = export(
        &w.store,
        w.ws,
        &q(journey_of(w.ws).await),
        Format::Xes,
        &reader,
    )
    .await
    .unwrap();
    let text = String::from_utf8(first.clone()).unwrap();
    assert!(
        text.contains("time:timestamp")
            && text.contains("lifecycle:transition")
            && text.contains("org:group"),
        "{text}"
    );
    assert!(
        text.contains("channel:phone"),
        "the encounter at no touchpoint is kept by its channel"
    );

    // Into a second workspace with the same model.
    kohtaamo_app::model::import_yaml(
        &w.store,
        &MODEL.replace("slug: rail,", "slug: rail2,"),
        None,
        false,
        kohtaamo_app::model::Importer::Admin,
    )
    .await
    .unwrap();
    let ws2 = w
        .store
        .workspace_by_slug("rail2")
        .await
        .unwrap()
        .unwrap()
        .id;
    let dir = tempfile::tempdir().unwrap();
    let (xes_path, csv_path) = (dir.path().join("log.xes"), dir.path().join("log.csv"));
    std::fs::write(&xes_path, &first).unwrap();
    assert_eq!(xes_to_csv(&xes_path, &csv_path).unwrap(), rows.len() as u64);
    let import = || {
        let p = csv_path.clone();
        let store = w.store.clone();
        let by = by.clone();
        async move {
            import_csv(
                &store,
                ws2,
                move || std::fs::File::open(&p),
                &Mapping::default(),
                false,
                &by,
                chrono::Utc::now(),
                None,
            )
            .await
            .unwrap()
        }
    };
    let r = import().await;
    assert_eq!(
        (r.rows, r.stored, r.bad, r.applied),
        (rows.len() as u64, rows.len() as u64, 0, true),
        "{r:?}"
    );
    let again = import().await;
    assert_eq!((again.stored, again.existing), (0, rows.len() as u64));
    let second = export(
        &w.store,
        ws2,
        &q(journey_of(ws2).await),
        Format::Xes,
        &reader,
    )
    .await
    .unwrap();
    assert_eq!(
        String::from_utf8(second).unwrap(),
        text,
        "XES → Kohtaamo → XES gives the same log"
    );

    // OCEL 2.0: every encounter an event, customers and cases objects.
    let ocel = export(
        &w.store,
        w.ws,
        &q(journey_of(w.ws).await),
        Format::Ocel,
        &reader,
    )
    .await
    .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&ocel).unwrap();
    assert_eq!(doc["events"].as_array().unwrap().len(), rows.len());
    let objects = doc["objects"].as_array().unwrap();
    let kinds = |k: &str| objects.iter().filter(|o| o["type"] == k).count();
    assert_eq!((kinds("case"), kinds("customer")), (20, 7));
    assert!(doc["events"][0]["relationships"].as_array().unwrap().len() == 2);

    // Not an XES file: refused, nothing written.
    std::fs::write(&xes_path, "case_id,activity\n1,a\n").unwrap();
    assert!(matches!(
        xes_to_csv(&xes_path, &csv_path),
        Err(Error::Invalid(_))
    ));
}

/// The journey's flow from the per-day rollups is exactly what mining counts from the
/// log, for any period, by case and by customer: after encounters arrive late and out
/// of time order (a read brings the rollups up to date), after the design changes (they
/// are rebuilt) and after a privacy deletion (marked stale, rebuilt). A pass whose
/// reading was overtaken by another pass writes nothing of what it read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_flow_from_the_rollups_is_what_mining_counts() {
    use kohtaamo_app::encounters::{self as enc, Recorder};
    use kohtaamo_app::mining::{self as mn, Query};
    use kohtaamo_app::mining_rollups as mr;
    use kohtaamo_domain::encounters::{EncounterInput, Source};

    const FLOW_MODEL: &str = r#"
kohtaamo: 1
workspace: {slug: flow, name: {fi: Virta, en: Flow}, default_language: fi}
units:
  - {slug: desk, name: {fi: Palvelu, en: Desk}}
segments:
  - {slug: buyer, name: {fi: Ostaja, en: Buyer}}
journeys:
  - slug: buy
    name: {fi: Osto, en: Buy}
    segment: buyer
    stages:
      - slug: choose
        name: {fi: Valinta, en: Choose}
        touchpoints:
          - {slug: web-shop, name: {fi: Verkkokauppa, en: Web shop}, channel: web, lane: frontstage, owner: {unit: desk}}
          - {slug: phone-sale, name: {fi: Puhelinmyynti, en: Phone sale}, channel: phone, lane: frontstage, owner: {unit: desk}}
      - slug: pay
        name: {fi: Maksu, en: Pay}
        touchpoints:
          - {slug: checkout, name: {fi: Kassa, en: Checkout}, channel: web, lane: frontstage, presence: required}
      - slug: use
        name: {fi: Käyttö, en: Use}
        touchpoints:
          - {slug: delivery, name: {fi: Toimitus, en: Delivery}, channel: in_person, lane: frontstage}
  - slug: help
    name: {fi: Apu, en: Help}
    segment: buyer
    stages:
      - slug: ask
        name: {fi: Kysy, en: Ask}
        touchpoints:
          - {slug: helpdesk, name: {fi: Neuvonta, en: Helpdesk}, channel: phone, lane: frontstage}
"#;
    let db = fresh(backend_from_env()).await;
    let store = Store::connect(&db.url).await.expect("connect");
    kohtaamo_app::model::import_yaml(
        &store,
        FLOW_MODEL,
        None,
        false,
        kohtaamo_app::model::Importer::Admin,
    )
    .await
    .expect("import");
    let ws = store.workspace_by_slug("flow").await.unwrap().unwrap().id;
    let snapshot = store.snapshot(ws).await.unwrap();
    let journey = snapshot
        .journeys
        .iter()
        .find(|(_, j)| j.slug.as_str() == "buy")
        .unwrap()
        .0;
    let tps = store
        .list::<TouchpointData>(ws, &ListQuery::all())
        .await
        .unwrap()
        .items;
    let tp = |slug: &str| {
        tps.iter()
            .find(|t| t.data.slug.as_str() == slug)
            .unwrap()
            .id
    };
    let places = [
        Some(tp("web-shop")),
        Some(tp("phone-sale")),
        Some(tp("checkout")),
        Some(tp("delivery")),
        Some(tp("helpdesk")),
        None,
    ];
    let desk = snapshot
        .units
        .iter()
        .find(|(_, u)| u.slug.as_str() == "desk")
        .unwrap()
        .0;
    let now = chrono::Utc::now();
    let start = now - Duration::days(40);
    // A fixed pseudo-random walk: 60 cases of 15 customers, 1–8 encounters each.
    let mut seed: u64 = 42;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut rows: Vec<EncounterInput> = vec![];
    for c in 0..60 {
        let mut t = start + Duration::hours(next(24 * 35) as i64);
        for k in 0..1 + next(8) {
            t = (t + Duration::minutes(next(60 * 24 * 3) as i64)).min(now - Duration::minutes(5));
            let place = places[next(places.len() as u64) as usize];
            let mut v = json!({"id": format!("e{c}-{k}"),
                "at": t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "customer": format!("crm:{}", next(15)), "case_ref": format!("case{c}"),
                "kind": "contact"});
            match place {
                Some(id) => v["touchpoint_id"] = json!(id),
                None => {
                    v["channel"] = json!(["phone", "email"][next(2) as usize]);
                    v["owner"] = json!({"unit": desk});
                }
            }
            rows.push(serde_json::from_value(v).unwrap());
        }
    }
    // The late half arrives after the rollups were built: its encounters fall between
    // and before those already applied.
    let late: Vec<EncounterInput> = rows.iter().skip(1).step_by(2).cloned().collect();
    let early: Vec<EncounterInput> = rows.iter().step_by(2).cloned().collect();
    let by = Recorder::user("admin");
    enc::record(&store, ws, &early, false, (Source::Api, &by), now)
        .await
        .unwrap();
    let ctx = JobCtx::new(store.clone(), Arc::new(SystemClock));
    assert!(Job::MINING_ROLLUPS.run_once(&ctx).await.unwrap() > 0);
    assert_eq!(
        Job::MINING_ROLLUPS.run_once(&ctx).await.unwrap(),
        0,
        "nothing left"
    );
    enc::record(&store, ws, &late, false, (Source::Api, &by), now)
        .await
        .unwrap();
    assert!(store.mining_pending(ws, 10).await.unwrap() > 0);

    // A pass reads the late encounters' streams outside the write lock; before it
    // writes, another pass (here: a whole refresh) applies them. What the first one
    // worked out — here a change no stream gives, 1,000 encounters at the checkout —
    // must not be written; it reads again inside the lock and finds nothing left.
    {
        use kohtaamo_domain::mining::Activity;
        use kohtaamo_domain::mining_rollup::{day_of, ActRow, FlowRows};
        use kohtaamo_storage::mining::InstanceKey;
        use kohtaamo_storage::mining_rollup::JourneyRows;
        let design = store.mining_state(ws).await.unwrap().0;
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let day = day_of(now.timestamp_millis());
        let handle = tokio::runtime::Handle::current();
        let n = store
            .mining_pass(ws, InstanceKey::Case, &design, 1_000, |streams, _| {
                if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
                    assert!(streams.is_empty(), "read again: nothing left");
                    return vec![];
                }
                assert!(!streams.is_empty());
                tokio::task::block_in_place(|| {
                    handle.block_on(mr::refresh(&store, ws, None)).unwrap()
                });
                let mut rows = FlowRows::default();
                rows.acts.insert(
                    ActRow {
                        day,
                        act: Activity::Touchpoint(tp("checkout")),
                        on_before: day,
                        on_after: day,
                    },
                    1_000,
                );
                vec![JourneyRows { journey, rows }]
            })
            .await
            .unwrap();
        assert_eq!(n, 0, "nothing applied by the overtaken pass");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(store.mining_pending(ws, 10).await.unwrap(), 0);
    }

    let i = I18n::new("en", "fi");
    let today = today();
    let periods = [
        (today - Duration::days(45), today),
        (today - Duration::days(20), today - Duration::days(10)),
        (today - Duration::days(30), today - Duration::days(30)),
        (today - Duration::days(7), today),
        (today - Duration::days(33), today - Duration::days(12)),
    ];
    let check = |label: &'static str| {
        let store = store.clone();
        let i = &i;
        async move {
            for (from, to) in periods {
                for by in ["case", "customer"] {
                    let m: BTreeMap<String, String> = [("by".to_string(), by.to_string())].into();
                    let q = Query::parse(journey, (from, to), &m).unwrap();
                    let f = mr::flow(&store, ws, &q, i).await.unwrap();
                    assert_eq!(f.source, "rollups", "{label}");
                    let mined = mn::mine(&store, ws, &q, i).await.unwrap();
                    let what = format!("{label}: {from}..{to} by {by}");
                    assert_eq!(f.instances, mined.instances, "{what}");
                    let mut a: Vec<(String, String, u64)> = f
                        .edges
                        .iter()
                        .map(|e| (e.from.label.clone(), e.to.label.clone(), e.count))
                        .collect();
                    let mut b: Vec<(String, String, u64)> = mined
                        .edges
                        .iter()
                        .map(|e| (e.from.label.clone(), e.to.label.clone(), e.count))
                        .collect();
                    a.sort();
                    b.sort();
                    assert_eq!(a, b, "{what}: edges");
                    let mut starts: Vec<(String, u64)> = f
                        .activities
                        .iter()
                        .filter(|x| x.starts > 0)
                        .map(|x| (x.activity.label.clone(), x.starts))
                        .collect();
                    let mut ends: Vec<(String, u64)> = f
                        .activities
                        .iter()
                        .filter(|x| x.ends > 0)
                        .map(|x| (x.activity.label.clone(), x.ends))
                        .collect();
                    starts.sort();
                    ends.sort();
                    let mut ms: Vec<(String, u64)> = mined
                        .starts
                        .iter()
                        .map(|x| (x.activity.label.clone(), x.count))
                        .collect();
                    let mut me: Vec<(String, u64)> = mined
                        .ends
                        .iter()
                        .map(|x| (x.activity.label.clone(), x.count))
                        .collect();
                    ms.sort();
                    me.sort();
                    assert_eq!(starts, ms, "{what}: starts");
                    assert_eq!(ends, me, "{what}: ends");
                    let encounters: u64 = f.activities.iter().map(|x| x.encounters).sum();
                    assert_eq!(encounters, mined.encounters, "{what}: encounters");
                    let funnel = |v: Vec<(u64, u64)>| v;
                    assert_eq!(
                        funnel(f.funnel.iter().map(|s| (s.reached, s.stopped)).collect()),
                        funnel(
                            mined
                                .funnel
                                .iter()
                                .map(|s| (s.reached, s.stopped))
                                .collect()
                        ),
                        "{what}: funnel"
                    );
                }
            }
        }
    };
    check("late encounters").await;
    // Not every period is empty: the check compares something.
    let all = Query::parse(journey, periods[0], &BTreeMap::new()).unwrap();
    let f = mr::flow(&store, ws, &all, &i).await.unwrap();
    assert!(f.instances > 20 && f.edges.len() > 10, "{f:?}");
    assert!(f
        .activities
        .iter()
        .any(|a| a.activity.channel.as_deref() == Some("email")));

    // Another gap than the default is counted from the log.
    let m: BTreeMap<String, String> = [
        ("by".to_string(), "customer".to_string()),
        ("gap_hours".to_string(), "24".to_string()),
    ]
    .into();
    let q = Query::parse(journey, periods[0], &m).unwrap();
    let f = mr::flow(&store, ws, &q, &i).await.unwrap();
    let mined = mn::mine(&store, ws, &q, &i).await.unwrap();
    assert_eq!((f.source.as_str(), f.instances), ("log", mined.instances));

    // The design changes (delivery becomes optional): the rollups are rebuilt.
    let mut d = store
        .get::<TouchpointData>(ws, tp("delivery"))
        .await
        .unwrap();
    d.data.presence = kohtaamo_domain::model::Presence::Optional;
    store.update(ws, tp("delivery"), &d.data).await.unwrap();
    check("design changed").await;
    // A touchpoint moves to the other journey: what was on the map is outside it.
    let mut d = store
        .get::<TouchpointData>(ws, tp("phone-sale"))
        .await
        .unwrap();
    let ask = store
        .snapshot(ws)
        .await
        .unwrap()
        .stages
        .iter()
        .find(|(_, s, _)| s.slug.as_str() == "ask")
        .unwrap()
        .0;
    d.data.stage_id = ask;
    store.update(ws, tp("phone-sale"), &d.data).await.unwrap();
    check("touchpoint moved").await;
    // And one moves in: its encounters, recorded on the other journey, are on the map.
    let mut d = store
        .get::<TouchpointData>(ws, tp("helpdesk"))
        .await
        .unwrap();
    let use_stage = store
        .snapshot(ws)
        .await
        .unwrap()
        .stages
        .iter()
        .find(|(_, s, _)| s.slug.as_str() == "use")
        .unwrap()
        .0;
    d.data.stage_id = use_stage;
    store.update(ws, tp("helpdesk"), &d.data).await.unwrap();
    check("touchpoint moved in").await;
    // A person is erased: their encounters go, the rollups are rebuilt without them.
    let officer = kohtaamo_storage::privacy::Actor::user(
        store
            .create_user("tietosuoja", "a long enough password", false)
            .await
            .unwrap(),
    );
    let before = mr::flow(&store, ws, &all, &i).await.unwrap();
    erase(&store, ws, &officer, "crm:3").await;
    check("a person erased").await;
    let after = mr::flow(&store, ws, &all, &i).await.unwrap();
    let encounters = |f: &mr::JourneyFlow| f.activities.iter().map(|a| a.encounters).sum::<u64>();
    assert!(
        encounters(&after) < encounters(&before),
        "{} → {}",
        encounters(&before),
        encounters(&after)
    );

    // The mining report is kept while nothing it shows changes: a new encounter, a
    // rename or another language computes it again.
    let all: Query = Query::parse(
        journey,
        periods[0],
        &[("variants".to_string(), "7".to_string())].into(),
    )
    .unwrap();
    let first = mn::mine(&store, ws, &all, &i).await.unwrap();
    let again = mn::mine(&store, ws, &all, &i).await.unwrap();
    assert!(!first.cached && again.cached);
    assert_eq!(again.variants, first.variants);
    assert!(
        !mn::mine(&store, ws, &all, &I18n::new("fi", "fi"))
            .await
            .unwrap()
            .cached
    );
    let one: Vec<EncounterInput> = vec![serde_json::from_value(json!({"id": "one-more",
        "at": (now - Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "touchpoint_id": tp("checkout"), "case_ref": "case-new", "kind": "contact"}))
    .unwrap()];
    enc::record(&store, ws, &one, false, (Source::Api, &by), now)
        .await
        .unwrap();
    let fresh = mn::mine(&store, ws, &all, &i).await.unwrap();
    assert!(!fresh.cached);
    assert_eq!(fresh.instances, first.instances + 1);
    let mut d = store
        .get::<TouchpointData>(ws, tp("checkout"))
        .await
        .unwrap();
    let names: BTreeMap<String, String> = [
        ("fi".to_string(), "Kassa 2".to_string()),
        ("en".to_string(), "Till".to_string()),
    ]
    .into();
    d.data.name = kohtaamo_domain::text::Texts::name(&names).unwrap();
    store.update(ws, tp("checkout"), &d.data).await.unwrap();
    let renamed = mn::mine(&store, ws, &all, &i).await.unwrap();
    assert!(!renamed.cached);
    assert!(renamed.edges.iter().any(|e| e.to.name == "Till"));

    // A request that may not wait answers at once (this runtime runs one task at a
    // time, so the computation it starts has not run yet): with the last report over
    // the same names and design, marked stale, while the current one is computed.
    let more = |id: &str, case: &str| -> Vec<EncounterInput> {
        vec![serde_json::from_value(json!({"id": id,
            "at": (now - Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "touchpoint_id": tp("checkout"), "case_ref": case, "kind": "contact",
            "customer": format!("crm:{case}")}))
        .unwrap()]
    };
    enc::record(
        &store,
        ws,
        &more("two-more", "case-new-2"),
        false,
        (Source::Api, &by),
        now,
    )
    .await
    .unwrap();
    let (_, stood_in) = mn::mine_within(&store, ws, &all, &i, Some(std::time::Duration::ZERO))
        .await
        .unwrap()
        .expect("the last report stands in");
    assert!(stood_in.stale && stood_in.cached);
    assert_eq!(stood_in.instances, renamed.instances);
    assert_eq!(stood_in.computed_at, renamed.computed_at);
    // The computation went on; requests meanwhile share it (one report, one timing).
    let (a, b) = tokio::join!(
        mn::mine_within(&store, ws, &all, &i, None),
        mn::mine_within(&store, ws, &all, &i, None)
    );
    let (a, b) = (a.unwrap().unwrap().1, b.unwrap().unwrap().1);
    assert!(!a.stale && !b.stale);
    assert_eq!(a.instances, renamed.instances + 1);
    assert_eq!((&a.timings, &a.computed_at), (&b.timings, &b.computed_at));
    // After a deletion no earlier report stands in: it may show what is gone.
    enc::record(
        &store,
        ws,
        &more("three-more", "case-new-3"),
        false,
        (Source::Api, &by),
        now,
    )
    .await
    .unwrap();
    erase(&store, ws, &officer, "crm:case-new-3").await;
    assert!(
        mn::mine_within(&store, ws, &all, &i, Some(std::time::Duration::ZERO))
            .await
            .unwrap()
            .is_none(),
        "being computed, nothing stands in"
    );
    let after = mn::mine(&store, ws, &all, &i).await.unwrap();
    assert!(!after.stale);
}

/// A rebuild of the rollups from the whole log covers the encounters recorded before
/// it began; those recorded while it runs are left to the passes after it. One
/// rebuild runs at a time (a lease), and a deletion while it runs voids it.
#[tokio::test]
async fn rollup_rebuild_covers_what_was_there_and_yields_to_deletions() {
    use kohtaamo_app::encounters::{self as enc, Recorder};
    use kohtaamo_app::mining::{self as mn, Query};
    use kohtaamo_app::mining_rollups as mr;
    use kohtaamo_domain::encounters::{EncounterInput, Source};
    use kohtaamo_storage::mining::InstanceKey;

    let db = fresh(backend_from_env()).await;
    let store = Store::connect(&db.url).await.expect("connect");
    kohtaamo_app::model::import_yaml(
        &store,
        r#"
kohtaamo: 1
workspace: {slug: rb, name: {fi: Rb, en: Rb}, default_language: fi}
units:
  - {slug: desk, name: {fi: Palvelu, en: Desk}}
segments:
  - {slug: buyer, name: {fi: Ostaja, en: Buyer}}
journeys:
  - slug: buy
    name: {fi: Osto, en: Buy}
    segment: buyer
    stages:
      - slug: choose
        name: {fi: Valinta, en: Choose}
        touchpoints:
          - {slug: web-shop, name: {fi: Verkkokauppa, en: Web shop}, channel: web, lane: frontstage, owner: {unit: desk}}
      - slug: pay
        name: {fi: Maksu, en: Pay}
        touchpoints:
          - {slug: checkout, name: {fi: Kassa, en: Checkout}, channel: web, lane: frontstage, owner: {unit: desk}}
"#,
        None,
        false,
        kohtaamo_app::model::Importer::Admin,
    )
    .await
    .expect("import");
    let ws = store.workspace_by_slug("rb").await.unwrap().unwrap().id;
    let journey = store.snapshot(ws).await.unwrap().journeys[0].0;
    let now = chrono::Utc::now();
    let by = Recorder::user("admin");
    let record = |from: usize, n: usize| {
        let rows: Vec<EncounterInput> = (from..from + n)
            .map(|k| {
                let place = ["web-shop", "checkout"][k % 2];
                serde_json::from_value(json!({"id": format!("e{k}"),
                    "at": (now - Duration::hours((100 - k) as i64)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "customer": format!("crm:{}", k % 3), "case_ref": format!("case{}", k % 4),
                    "touchpoint": place, "kind": "contact"}))
                .unwrap()
            })
            .collect();
        let store = store.clone();
        let by = by.clone();
        async move {
            enc::record(&store, ws, &rows, false, (Source::Api, &by), now)
                .await
                .unwrap();
        }
    };
    record(0, 10).await;

    // A rebuild begins; 6 more encounters arrive while it runs.
    let (generation, upto) = store.mining_build_start(ws).await.unwrap().unwrap();
    assert!(
        store.mining_build_start(ws).await.unwrap().is_none(),
        "one rebuild at a time"
    );
    record(10, 6).await;
    let mut read = 0;
    for kind in [InstanceKey::Case, InstanceKey::Customer] {
        assert!(store
            .mining_build_read(ws, (generation, upto), kind, |s| read += s.events.len())
            .await
            .unwrap());
    }
    assert_eq!(
        read, 20,
        "each of the first 10, once by case and once by customer"
    );
    assert!(store.mining_build_mark(ws, generation, upto).await.unwrap());
    assert!(store
        .mining_build_finish(ws, generation, Some("a design"))
        .await
        .unwrap());
    assert_eq!(
        store.mining_pending(ws, 100).await.unwrap(),
        6,
        "later ones wait"
    );
    assert_eq!(store.mining_state(ws).await.unwrap().0, "a design");

    // A deletion while a rebuild runs voids it: nothing is recorded as built.
    let (generation, upto) = store.mining_build_start(ws).await.unwrap().unwrap();
    let officer = kohtaamo_storage::privacy::Actor::user(
        store
            .create_user("tietosuoja", "a long enough password", false)
            .await
            .unwrap(),
    );
    erase(&store, ws, &officer, "crm:1").await;
    assert!(!store.mining_build_mark(ws, generation, upto).await.unwrap());
    assert!(!store
        .mining_build_finish(ws, generation, Some("a design"))
        .await
        .unwrap());
    assert_eq!(store.mining_state(ws).await.unwrap().0, "", "still stale");

    // The next refresh rebuilds (the voided rebuild gave its lease up), and the flow
    // is what mining counts from the log.
    assert!(mr::refresh(&store, ws, None).await.unwrap() > 0);
    assert_eq!(store.mining_pending(ws, 100).await.unwrap(), 0);
    let i = I18n::new("en", "fi");
    let agrees = async || {
        for kind in ["case", "customer"] {
            let m: BTreeMap<String, String> = [("by".to_string(), kind.to_string())].into();
            let q = Query::parse(journey, (today() - Duration::days(10), today()), &m).unwrap();
            let f = mr::flow(&store, ws, &q, &i).await.unwrap();
            let mined = mn::mine(&store, ws, &q, &i).await.unwrap();
            assert_eq!(f.source, "rollups");
            assert!(f.instances > 0);
            assert_eq!(f.instances, mined.instances, "{kind}");
            let mut ours: Vec<_> = f
                .edges
                .iter()
                .map(|e| (e.from.label.clone(), e.to.label.clone(), e.count))
                .collect();
            let mut theirs: Vec<_> = mined
                .edges
                .iter()
                .map(|e| (e.from.label.clone(), e.to.label.clone(), e.count))
                .collect();
            ours.sort();
            theirs.sort();
            assert_eq!(ours, theirs, "{kind}");
        }
    };
    agrees().await;

    // A backlog over the pace's threshold and over a quarter of the log (10 waiting
    // beside at most 16) is applied by a rebuild; one under a quarter (4 beside at
    // least 20) by passes.
    let pace = mr::Pace {
        pass_rows: 2,
        rebuild_over: 3,
    };
    record(16, 10).await;
    let r = mr::refresh_by(&store, ws, None, pace).await.unwrap();
    assert!(r.rebuilt.is_some(), "{r:?}");
    assert_eq!(r.applied, 0, "{r:?}");
    assert_eq!(store.mining_pending(ws, 100).await.unwrap(), 0);
    agrees().await;
    record(26, 4).await;
    let r = mr::refresh_by(&store, ws, None, pace).await.unwrap();
    assert_eq!(r.rebuilt, None, "{r:?}");
    assert!(r.applied > 0, "{r:?}");
    assert_eq!(store.mining_pending(ws, 100).await.unwrap(), 0);
    agrees().await;
}
