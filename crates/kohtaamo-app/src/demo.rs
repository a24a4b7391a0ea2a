//! The demo workspace: the seed's passenger-rail model (`demo/demo.yaml`) and the
//! seeded generator of a realistic feedback history for a workspace's active surveys
//! (`kohtaamo demo responses`, `serve --demo` on first start, and the installation
//! admin's "create the demo workspace" in the browser). The same seed gives the same
//! responses.
//!
//! Model: each *trip* has a customer (pseudonymous `cust-…`), a day within the last
//! `days` days (weekdays busier), a language (fi 70 %, en 25 %, sv 5 %) and a hidden
//! trip quality. Each touchpoint survey is answered with probability 0.35; its
//! answers come from the touchpoint's own quality (the restaurant car is the weakest
//! encounter; the refund process starts worse and recovers over the year) plus the
//! trip's, with noise. The journey survey
//! is answered on half the trips; its NPS follows the trip's touchpoint experiences,
//! so touchpoint → journey impact can be estimated. Touchpoint and journey answers of
//! one trip share `customer_ref` and `case_ref`. Open answers come from a small fi/en/sv
//! phrase bank of each touchpoint, matching the score and the respondent's language.
//! No response is dated later than the moment of generation. 4 % of responses are partial.
//!
//! Encounters (from a random stream of their own, so the responses do not change): on
//! each trip the customer meets, in stage order through the day and under the trip's
//! customer and case refs, every touchpoint they answered a survey about and, at 70 %
//! of the other stages, one touchpoint of the stage; beside each answering trip a
//! *silent* trip (another traveller who answers nothing) walks the journey the same
//! way. On 3 % of stops a member of staff records a capture there (the touchpoint's
//! phrase, a theme, a feeling, a promise when it went badly). One customer is linked to
//! a loyalty card. Impressions are written as responses ÷ a response rate of about
//! 30 % (the survey is also offered by QR code to people whose encounter no system
//! records, so more are shown it than there are encounters).

use std::collections::{BTreeMap, HashMap};

use crate::{Error, Result};
use chrono::{Datelike, Duration, Utc};
use kohtaamo_domain::survey::{QuestionKind, ResponseKey, SurveyData, SurveyStatus};
use kohtaamo_domain::Id;
use kohtaamo_storage::encounters::{NewCapture, NewEncounter};
use kohtaamo_storage::feedback::{write_batch_direct, NewResponse};
use kohtaamo_storage::{ListQuery, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// The demo workspace's model document.
pub const DEMO_YAML: &str = include_str!("../demo/demo.yaml");
/// What the demo workspace is generated with.
pub const DEMO_SEED: u64 = 2026;
pub const DEMO_TRIPS: u64 = 12000;
pub const DEMO_DAYS: i64 = 365;

/// Creates the `demo` workspace with its model and a year of responses, unless it
/// exists; returns (records created, responses written), or `None` if it existed.
pub async fn create(store: &Store) -> Result<Option<(usize, u64)>> {
    if store.workspace_by_slug("demo").await?.is_some() {
        return Ok(None);
    }
    let doc = kohtaamo_storage::model_io::parse_yaml(DEMO_YAML)?;
    let r = store.import(&doc, false).await?;
    if let Some(ws) = store.workspace_by_slug("demo").await? {
        follow_up_rules(store, ws.id).await?;
    }
    let n = generate(
        store,
        "demo",
        &Plan {
            seed: DEMO_SEED,
            trips: DEMO_TRIPS,
            days: DEMO_DAYS,
        },
    )
    .await?;
    if let Some(ws) = store.workspace_by_slug("demo").await? {
        demo_cases(store, ws.id, DEMO_SEED, chrono::Utc::now().naive_utc()).await?;
    }
    Ok(Some((r.created, n)))
}

pub struct Plan {
    pub seed: u64,
    pub trips: u64,
    pub days: i64,
}

/// Per touchpoint slug: how good the encounter is (−1 … 1), `age` days ago. The
/// restaurant car is the weakest encounter throughout; the refund process starts as bad
/// and recovers over the year (a fix that worked), so the trend has a story to tell.
fn touchpoint_quality(slug: &str, age: i64) -> f64 {
    match slug {
        "restaurant-car-visit" => -0.6,
        "refund-request" => -0.9 + 1.1 * (1.0 - age.clamp(0, 365) as f64 / 365.0),
        "ticket-machine-purchase" => -0.1,
        "buy-ticket-app" => 0.25,
        "buy-ticket-online" => 0.35,
        "assistance-onboard" => 0.5,
        _ => 0.1,
    }
}

/// Unhappy and happy open answers in one language.
type Phrases = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// Open answers that fit where they are given: touchpoint slug ("" = the whole trip)
/// → per language (fi, en, sv) the unhappy and the happy ones.
const BANKS: &[(&str, [Phrases; 3])] = &[
    (
        "restaurant-car-visit",
        [
            (
                "fi",
                &[
                    "Ravintolavaunusta oli ruoka loppu",
                    "Kahvi oli kylmää ja jono pitkä",
                    "Ravintolavaunu oli kiinni koko matkan",
                ],
                &[
                    "Hyvä kahvi ravintolavaunussa",
                    "Ystävällinen myyjä ravintolavaunussa",
                ],
            ),
            (
                "en",
                &[
                    "The restaurant car had run out of food",
                    "The coffee was cold and the queue long",
                    "The restaurant car was closed the whole trip",
                ],
                &[
                    "Good coffee in the restaurant car",
                    "Friendly staff in the restaurant car",
                ],
            ),
            (
                "sv",
                &[
                    "Restaurangvagnen hade slut på mat",
                    "Kaffet var kallt och kön lång",
                ],
                &["Gott kaffe i restaurangvagnen"],
            ),
        ],
    ),
    (
        "refund-request",
        [
            (
                "fi",
                &[
                    "Hyvityksen käsittely kesti viikkoja",
                    "Hyvityslomaketta oli vaikea löytää",
                    "Kukaan ei kertonut, missä vaiheessa hyvitys on",
                ],
                &["Hyvitys tuli nopeasti", "Hyvityksen hakeminen oli helppoa"],
            ),
            (
                "en",
                &[
                    "The refund took weeks",
                    "The refund form was hard to find",
                    "Nobody told me where my refund stood",
                ],
                &["The refund came quickly", "Asking for a refund was easy"],
            ),
            (
                "sv",
                &[
                    "Återbetalningen tog flera veckor",
                    "Ingen berättade hur det gick med återbetalningen",
                ],
                &["Återbetalningen kom snabbt"],
            ),
        ],
    ),
    (
        "ticket-machine-purchase",
        [
            (
                "fi",
                &[
                    "Automaatti ei hyväksynyt korttia",
                    "Automaatin näyttöä ei nähnyt auringossa",
                ],
                &["Lipun sai automaatista nopeasti"],
            ),
            (
                "en",
                &[
                    "The machine did not accept my card",
                    "The machine's screen could not be read in the sun",
                ],
                &["Got my ticket from the machine quickly"],
            ),
            (
                "sv",
                &["Automaten tog inte mitt kort"],
                &["Biljetten från automaten gick snabbt"],
            ),
        ],
    ),
    (
        "buy-ticket-app",
        [
            (
                "fi",
                &[
                    "Sovellus kaatui maksaessa",
                    "Lipun ostaminen sovelluksella oli hankalaa",
                ],
                &["Sovelluksella osto oli helppoa ja nopeaa"],
            ),
            (
                "en",
                &[
                    "The app crashed while paying",
                    "Buying a ticket in the app was confusing",
                ],
                &["Buying in the app was quick and easy"],
            ),
            (
                "sv",
                &["Appen kraschade vid betalningen"],
                &["Det var lätt att köpa i appen"],
            ),
        ],
    ),
    (
        "buy-ticket-online",
        [
            (
                "fi",
                &["Verkkokauppa oli hidas", "Alennuskoodi ei toiminut"],
                &["Lipun osto verkossa oli helppoa"],
            ),
            (
                "en",
                &["The online shop was slow", "The discount code did not work"],
                &["Buying online was easy"],
            ),
            (
                "sv",
                &["Webbutiken var långsam"],
                &["Det var lätt att köpa på webben"],
            ),
        ],
    ),
    (
        "assistance-onboard",
        [
            (
                "fi",
                &["Avustaja ei tullut ajoissa"],
                &["Avustaja oli vastassa ja auttoi ystävällisesti"],
            ),
            (
                "en",
                &["The assistant did not arrive on time"],
                &["The assistant met me and was very kind"],
            ),
            (
                "sv",
                &["Assistenten kom inte i tid"],
                &["Assistenten mötte mig och var vänlig"],
            ),
        ],
    ),
    (
        "",
        [
            (
                "fi",
                &[
                    "Juna oli myöhässä eikä siitä kerrottu",
                    "Liian kallis hinta",
                    "Ravintolavaunu pilasi muuten hyvän matkan",
                ],
                &[
                    "Juna oli ajoissa",
                    "Siisti ja rauhallinen vaunu",
                    "Ystävällinen henkilökunta",
                ],
            ),
            (
                "en",
                &[
                    "The train was late and nobody told us",
                    "Too expensive",
                    "The restaurant car spoiled an otherwise good trip",
                ],
                &[
                    "The train was on time",
                    "Clean and quiet carriage",
                    "Friendly staff",
                ],
            ),
            (
                "sv",
                &["Tåget var försenat och ingen sa något", "För dyrt"],
                &["Tåget var i tid", "Vänlig personal"],
            ),
        ],
    ),
];

/// An open answer for `slug` ("" = the trip) in `lang`, unhappy or happy.
fn phrase(rng: &mut StdRng, slug: &str, lang: &str, unhappy: bool) -> &'static str {
    let Some((_, bank)) = BANKS
        .iter()
        .find(|(s, _)| *s == slug)
        .or_else(|| BANKS.iter().find(|(s, _)| s.is_empty()))
    else {
        return "";
    };
    let (_, neg, pos) = bank.iter().find(|(l, _, _)| *l == lang).unwrap_or(&bank[0]);
    let list = if unhappy { neg } else { pos };
    list[rng.gen_range(0..list.len())]
}

struct Live {
    id: Id,
    data: SurveyData,
    touchpoint_slug: Option<String>,
}

/// Maps a quality (about −2 … 2) to a scale with noise.
fn score(rng: &mut StdRng, quality: f64, lo: i64, hi: i64) -> i64 {
    let x = quality + rng.gen_range(-0.9..0.9);
    let t = ((x + 1.0) / 2.4 + 0.3).clamp(0.0, 1.0);
    lo + (t * (hi - lo) as f64).round() as i64
}

fn answers_for(
    rng: &mut StdRng,
    s: &SurveyData,
    slug: &str,
    quality: f64,
    lang: &str,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut sentiment = 0.0;
    for q in &s.questions {
        let v = match (q.kind, q.range()) {
            (_, Some((lo, hi))) => {
                let v = score(rng, quality, lo, hi);
                sentiment = (v - lo) as f64 / (hi - lo) as f64;
                Some(Value::from(v))
            }
            (QuestionKind::Single, _) => {
                let i = rng.gen_range(0..q.options.len());
                Some(Value::from(q.options[i].key.to_string()))
            }
            (QuestionKind::Multi, _) => {
                let picks: Vec<Value> = q
                    .options
                    .iter()
                    .filter(|_| rng.gen_bool(0.3))
                    .map(|o| Value::from(o.key.to_string()))
                    .collect();
                (!picks.is_empty()).then_some(Value::Array(picks))
            }
            (QuestionKind::Text, _) if rng.gen_bool(0.45) => {
                Some(Value::from(phrase(rng, slug, lang, sentiment < 0.6)))
            }
            // Two in five of those asked leave an address to be contacted at.
            (QuestionKind::Contact, _) if rng.gen_bool(0.4) => Some(Value::from(format!(
                "asiakas{}@example.fi",
                rng.gen_range(1000..100_000)
            ))),
            _ => None,
        };
        if let Some(v) = v {
            out.insert(q.key.to_string(), v);
        }
    }
    out
}

/// Generates the history; returns the number of responses written.
pub async fn generate(store: &Store, ws_slug: &str, plan: &Plan) -> Result<u64> {
    let ws = store
        .workspace_by_slug(ws_slug)
        .await?
        .ok_or(Error::NotFound)?;
    let q = ListQuery::all();
    let touchpoints = store
        .list::<kohtaamo_domain::model::TouchpointData>(ws.id, &q)
        .await?;
    let tp_slug: HashMap<Id, String> = touchpoints
        .items
        .iter()
        .map(|r| (r.id, r.data.slug.to_string()))
        .collect();
    let surveys: Vec<Live> = store
        .list::<SurveyData>(ws.id, &q)
        .await?
        .items
        .into_iter()
        .filter(|r| r.data.status == SurveyStatus::Active)
        .map(|r| Live {
            id: r.id,
            touchpoint_slug: r.data.touchpoint_id.and_then(|t| tp_slug.get(&t).cloned()),
            data: r.data,
        })
        .collect();
    let (tp_surveys, trip_surveys): (Vec<&Live>, Vec<&Live>) =
        surveys.iter().partition(|s| s.data.touchpoint_id.is_some());
    let snapshot = store.snapshot(ws.id).await?;
    let walk = DemoJourney::new(&snapshot);
    let themes = prepare_capture_themes(store, ws.id).await?;
    let mut encounters: Vec<NewEncounter> = Vec::with_capacity(4000);
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let now = Utc::now().naive_utc();
    let today = now.date();
    let mut batch: Vec<NewResponse> = Vec::with_capacity(5000);
    let mut written = 0u64;
    let mut shown: HashMap<(Id, Option<Id>, String), i64> = HashMap::new();
    for trip in 0..plan.trips {
        let day = loop {
            let d = today - Duration::days(rng.gen_range(0..plan.days.max(1)));
            // Fewer trips at weekends.
            if d.weekday().number_from_monday() <= 5 || rng.gen_bool(0.6) {
                break d;
            }
        };
        let lang = match rng.gen_range(0..100) {
            0..=69 => "fi",
            70..=94 => "en",
            _ => "sv",
        };
        let customer = format!("cust-{:06}", rng.gen_range(0..(plan.trips / 3).max(1)));
        let case = format!("trip-{trip:08}");
        let trip_quality: f64 = rng.gen_range(-0.6..0.6);
        let mut experienced = Vec::new();
        let mut answered: Vec<Id> = Vec::new();
        let mut emit = |rng: &mut StdRng,
                        s: &Live,
                        quality: f64,
                        tp: Option<Id>,
                        batch: &mut Vec<NewResponse>| {
            let slug = s.touchpoint_slug.as_deref().unwrap_or_default();
            let raw = answers_for(rng, &s.data, slug, quality, lang);
            let complete = !rng.gen_bool(0.04);
            let Ok(answers) = s.data.validate_answers(&raw, complete) else {
                return;
            };
            let secs = rng.gen_range(6 * 3600..22 * 3600);
            // Never later than now: today's answers fall in the hours already past.
            let at = (day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::seconds(secs))
                .min(now - Duration::seconds(rng.gen_range(60..3600)));
            let scores = answers.scores(&s.data);
            let Ok(key) = ResponseKey::parse(&format!("demo-{}-{case}", s.id)) else {
                return;
            };
            *shown.entry((s.id, tp, day.to_string())).or_default() += 1;
            batch.push(NewResponse {
                workspace_id: ws.id,
                survey_id: s.id,
                key,
                hidden: kohtaamo_domain::survey::Hidden {
                    touchpoint_id: tp,
                    channel: Some(if tp.is_some() { "in_person" } else { "email" }.into()),
                    locale: kohtaamo_domain::text::Lang::parse(lang).ok(),
                    customer_ref: Some(customer.clone()),
                    case_ref: Some(case.clone()),
                    custom: BTreeMap::new(),
                },
                answers,
                scores,
                complete,
                invitation: None,
                at: Some(at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                suspect: None,
                follow_ups: vec![],
                consent: None,
            });
        };
        for s in &tp_surveys {
            if rng.gen_bool(0.35) {
                let q = touchpoint_quality(
                    s.touchpoint_slug.as_deref().unwrap_or_default(),
                    (today - day).num_days(),
                ) + trip_quality;
                experienced.push(q);
                answered.extend(s.data.touchpoint_id);
                emit(&mut rng, s, q, s.data.touchpoint_id, &mut batch);
            }
        }
        for s in &trip_surveys {
            if rng.gen_bool(0.5) {
                // The trip as a whole follows its encounters, the worst one most.
                let worst = experienced.iter().copied().fold(f64::INFINITY, f64::min);
                let mean = if experienced.is_empty() {
                    0.2
                } else {
                    experienced.iter().sum::<f64>() / experienced.len() as f64
                };
                let q = if worst.is_finite() {
                    0.5 * mean + 0.5 * worst + 0.3
                } else {
                    mean
                } + trip_quality * 0.5;
                emit(&mut rng, s, q, None, &mut batch);
            }
        }
        // What happened on the trip (own random stream: the responses stay as they were).
        let mut erng =
            StdRng::seed_from_u64(plan.seed ^ (trip + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        walk.trip(
            &mut erng,
            (day, now),
            (&customer, &case, lang),
            (trip_quality, &themes, &answered),
            &mut encounters,
        );
        // A fellow traveller who answers nothing.
        let silent_customer = format!("cust-{:06}", erng.gen_range(0..(plan.trips / 3).max(1)));
        let silent_case = format!("trip-{:08}", plan.trips + trip);
        let silent_lang = if erng.gen_bool(0.7) { "fi" } else { "en" };
        let silent_quality = erng.gen_range(-0.6..0.6);
        walk.trip(
            &mut erng,
            (day, now),
            (&silent_customer, &silent_case, silent_lang),
            (silent_quality, &themes, &[]),
            &mut encounters,
        );
        if batch.len() >= 4000 {
            written += flush(store, &mut batch).await?;
        }
        if encounters.len() >= 4000 {
            capture_follow_ups(store, ws.id, &mut encounters).await?;
            store.record_encounters(ws.id, &encounters).await?;
            encounters.clear();
        }
    }
    written += flush(store, &mut batch).await?;
    capture_follow_ups(store, ws.id, &mut encounters).await?;
    store.record_encounters(ws.id, &encounters).await?;
    link_demo_pair(store, ws.id, &walk, now).await?;
    settle_follow_ups(store, ws.id, plan.seed, now.and_utc()).await?;
    for ((survey, tp, day), n) in shown {
        // About 30 % of those shown a survey answer it.
        let seen = (n as f64 / 0.3).round() as i64;
        store.add_impressions(ws.id, survey, tp, &day, seen).await?;
    }
    Ok(written)
}

/// The demo journey as walked by its customers: per stage its touchpoints (id, slug,
/// name, channel, owner and owner's name).
struct DemoJourney {
    stages: Vec<Vec<Stop>>,
    stage_ids: Vec<Id>,
    journey: Option<Id>,
}

struct Stop {
    id: Id,
    slug: String,
    name: kohtaamo_domain::text::Texts,
    channel: String,
    owner: Option<kohtaamo_domain::model::Owner>,
    owner_name: Option<kohtaamo_domain::text::Texts>,
}

/// Staff who record captures in the demo.
const DEMO_STAFF: [&str; 4] = [
    "anna.virtanen",
    "mikko.korhonen",
    "liisa.nieminen",
    "juha.laine",
];

/// Capture themes of the demo: (slug, fi, en).
const DEMO_THEMES: [(&str, &str, &str); 5] = [
    ("odotus", "Odottaminen", "Waiting"),
    (
        "tiedonkulku",
        "Tieto ei kulkenut",
        "Information did not move",
    ),
    ("ystavallisyys", "Ystävällinen palvelu", "Friendly service"),
    ("siisteys", "Siisteys", "Cleanliness"),
    ("hinta", "Hinta", "Price"),
];

/// The demo's capture themes (created if missing), their ids in `DEMO_THEMES` order.
async fn prepare_capture_themes(store: &Store, ws: Id) -> Result<Vec<Option<Id>>> {
    let have: Vec<String> = store
        .capture_themes(ws)
        .await?
        .into_iter()
        .map(|t| t.slug)
        .collect();
    let texts = |fi: &str, en: &str| {
        kohtaamo_domain::text::Texts::name(&BTreeMap::from([
            ("fi".to_owned(), fi.to_owned()),
            ("en".to_owned(), en.to_owned()),
        ]))
        .unwrap_or_default()
    };
    for (slug, fi, en) in DEMO_THEMES {
        if !have.iter().any(|h| h == slug) {
            store
                .create_capture_theme(ws, slug, &texts(fi, en), None)
                .await?;
        }
    }
    if !have.iter().any(|h| h == "verkkoyhteys") {
        // One proposal waiting for an editor.
        store
            .create_capture_theme(
                ws,
                "verkkoyhteys",
                &texts("Junan verkkoyhteys", "On-board Wi-Fi"),
                Some("user:mikko.korhonen"),
            )
            .await?;
    }
    let all = store.capture_themes(ws).await?;
    Ok(DEMO_THEMES
        .iter()
        .map(|(slug, _, _)| all.iter().find(|t| t.slug == *slug).map(|t| t.id))
        .collect())
}

impl DemoJourney {
    fn new(s: &kohtaamo_domain::insight::Snapshot) -> Self {
        let journey = s
            .journeys
            .iter()
            .find(|(_, j)| j.slug.as_str() == "train-trip")
            .or(s.journeys.first())
            .map(|(id, _)| *id);
        let owner_name = |o: &Option<kohtaamo_domain::model::Owner>| match o {
            Some(kohtaamo_domain::model::Owner::Unit(u)) => s
                .units
                .iter()
                .find(|(id, _)| id == u)
                .map(|(_, d)| d.name.clone()),
            Some(kohtaamo_domain::model::Owner::Partner(p)) => s
                .partners
                .iter()
                .find(|(id, _)| id == p)
                .map(|(_, d)| d.name.clone()),
            None => None,
        };
        let mut stages = vec![];
        let mut stage_ids = vec![];
        for (sid, st, tps) in &s.stages {
            if Some(st.journey_id) != journey || tps.is_empty() {
                continue;
            }
            stage_ids.push(*sid);
            stages.push(
                tps.iter()
                    .map(|(id, t)| Stop {
                        id: *id,
                        slug: t.slug.to_string(),
                        name: t.name.clone(),
                        channel: t.channel.as_str().to_owned(),
                        owner: t.owner,
                        owner_name: owner_name(&t.owner),
                    })
                    .collect(),
            );
        }
        Self {
            stages,
            stage_ids,
            journey,
        }
    }

    fn stop(&self, slug: &str) -> Option<(usize, &Stop)> {
        self.stages
            .iter()
            .enumerate()
            .find_map(|(k, st)| st.iter().find(|t| t.slug == slug).map(|t| (k, t)))
    }

    fn encounter(
        &self,
        stage: usize,
        t: &Stop,
        client_id: String,
        at: String,
        customer: &str,
        case: Option<&str>,
    ) -> NewEncounter {
        let kind = match (t.slug.as_str(), t.channel.as_str()) {
            (s, _) if s.starts_with("buy-") || s.contains("purchase") => "purchase",
            (s, _) if s.contains("refund") || s.contains("lost") => "complaint",
            (_, "in_person") => "visit",
            _ => "contact",
        };
        NewEncounter {
            client_id,
            occurred_at: at,
            touchpoint_id: Some(t.id),
            touchpoint_name: Some(t.name.clone()),
            stage_id: self.stage_ids.get(stage).copied(),
            journey_id: self.journey,
            channel: t.channel.clone(),
            owner: t.owner,
            owner_name: t.owner_name.clone(),
            customer: kohtaamo_domain::encounters::Identifier::parse(customer)
                .ok()
                .map(|i| i.stored(|v| v.to_owned())),
            case_ref: case.map(str::to_owned),
            kind: kind.into(),
            text: None,
            attributes: BTreeMap::new(),
            source: "import",
            recorded_by: "system:demo".into(),
            capture: None,
        }
    }

    /// One trip's encounters, in stage order through the day: every touchpoint in
    /// `answered` (the customer gave feedback there) and, at 70 % of the other stages,
    /// one touchpoint of the stage; now and then a capture by staff (with a promise when
    /// it went badly).
    fn trip(
        &self,
        rng: &mut StdRng,
        (day, now): (chrono::NaiveDate, chrono::NaiveDateTime),
        (customer, case, lang): (&str, &str, &str),
        (quality, themes, answered): (f64, &[Option<Id>], &[Id]),
        out: &mut Vec<NewEncounter>,
    ) {
        let mut at = day.and_hms_opt(0, 0, 0).unwrap_or_default()
            + Duration::minutes(rng.gen_range(6 * 60..12 * 60));
        let stops = self.stages.iter().enumerate().flat_map(|(k, stage)| {
            let mut here: Vec<&Stop> = stage.iter().filter(|t| answered.contains(&t.id)).collect();
            if here.is_empty() && !stage.is_empty() && rng.gen_bool(0.7) {
                here.push(&stage[rng.gen_range(0..stage.len())]);
            }
            here.into_iter().map(move |t| (k, t))
        });
        let stops: Vec<(usize, &Stop)> = stops.collect();
        for (k, t) in stops {
            at += Duration::minutes(rng.gen_range(5..90));
            if at > now {
                break;
            }
            let stamp = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            out.push(self.encounter(
                k,
                t,
                format!("demo-{case}-{}", t.slug),
                stamp.clone(),
                customer,
                Some(case),
            ));
            if rng.gen_bool(0.03) {
                let unhappy = quality + rng.gen_range(-0.5..0.5) < 0.0;
                let text = phrase(rng, &t.slug, lang, unhappy);
                if text.is_empty() {
                    continue;
                }
                let feeling = if unhappy {
                    rng.gen_range(-2..0)
                } else {
                    rng.gen_range(0..3)
                };
                let theme = if unhappy {
                    [0usize, 1, 3, 4][rng.gen_range(0..4)]
                } else {
                    2
                };
                let mut e = self.encounter(
                    k,
                    t,
                    format!("demo-{case}-{}-capture", t.slug),
                    stamp,
                    customer,
                    Some(case),
                );
                e.kind = "capture".into();
                e.source = "staff";
                e.text = Some(text.to_owned());
                e.recorded_by = format!("user:{}", DEMO_STAFF[rng.gen_range(0..DEMO_STAFF.len())]);
                let promise = (unhappy && rng.gen_bool(0.4)).then(|| {
                    if lang == "fi" {
                        "Soitamme ja kerromme, miten asia etenee"
                    } else {
                        "We will call and say how it goes on"
                    }
                });
                e.capture = Some(NewCapture {
                    follow_up: None,
                    words: if rng.gen_bool(0.6) {
                        "quote"
                    } else {
                        "interpretation"
                    },
                    theme_id: themes.get(theme).copied().flatten(),
                    feeling,
                    needs_follow_up: unhappy && feeling == -2,
                    promise: promise.map(str::to_owned),
                    promise_due: promise.map(|_| (day + Duration::days(3)).to_string()),
                });
                out.push(e);
            }
        }
    }
}

/// Links one customer to their loyalty card, as a clerk would after checking it.
async fn link_demo_pair(
    store: &Store,
    ws: Id,
    walk: &DemoJourney,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    let Some((k, stop)) = walk
        .stop("ticket-machine-purchase")
        .or_else(|| walk.stages.first().and_then(|s| s.first()).map(|t| (0, t)))
    else {
        return Ok(());
    };
    let at = (now - Duration::days(2))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let card = walk.encounter(
        k,
        stop,
        "demo-loyalty-VR-1001".into(),
        at,
        "loyalty:VR-1001",
        None,
    );
    store.record_encounters(ws, &[card]).await?;
    let (Some(a), Some(b)) = (
        store.customer_by_ident(ws, "ref:cust-000001").await?,
        store.customer_by_ident(ws, "loyalty:VR-1001").await?,
    ) else {
        return Ok(());
    };
    store
        .link_customers(
            ws,
            a,
            b,
            "Sama kanta-asiakaskortti lipunmyynnissä / the same loyalty card at the ticket office",
            "user:liisa.nieminen",
        )
        .await?;
    Ok(())
}

async fn flush(store: &Store, batch: &mut Vec<NewResponse>) -> Result<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    // The workspace's follow-up rules open follow-ups as they would on arrival.
    let mut surveys: std::collections::HashMap<Id, kohtaamo_domain::survey::SurveyData> =
        std::collections::HashMap::new();
    for r in batch.iter_mut() {
        if let std::collections::hash_map::Entry::Vacant(e) = surveys.entry(r.survey_id) {
            let s = store
                .get::<kohtaamo_domain::survey::SurveyData>(r.workspace_id, r.survey_id)
                .await?;
            e.insert(s.data);
        }
        let Some(data) = surveys.get(&r.survey_id) else {
            continue;
        };
        r.follow_ups = crate::followups::for_response(
            store,
            r.workspace_id,
            (r.survey_id, data),
            &r.hidden,
            &r.answers,
        )
        .await?;
    }
    let refs: Vec<&NewResponse> = batch.iter().collect();
    let n = write_batch_direct(store, &refs).await?.len() as u64;
    batch.clear();
    Ok(n)
}

/// The demo's follow-up rules: detractors anywhere (the restaurant car is a partner's,
/// so its follow-ups go to onboard services), refunds mentioned in an open answer
/// (customer service), and any score alert (to the unit the alert goes to).
async fn follow_up_rules(store: &Store, ws: Id) -> Result<()> {
    use kohtaamo_domain::followups::FollowUpRuleInput;
    use kohtaamo_domain::model::Parse;
    let unit = |slug: &str| {
        let slug = slug.to_owned();
        async move {
            Ok::<_, Error>(
                store
                    .list::<kohtaamo_domain::model::UnitData>(ws, &ListQuery::all())
                    .await?
                    .items
                    .into_iter()
                    .find(|u| u.data.slug.as_str() == slug)
                    .map(|u| u.id),
            )
        }
    };
    let rules = [
        FollowUpRuleInput {
            name: "Arvostelijat (NPS 0–4)".into(),
            trigger: "nps".into(),
            threshold: Some(4),
            question: None,
            terms: None,
            scope: None,
            scope_id: None,
            unit_id: unit("onboard-services").await?,
            contact_hours: Some(24),
            resolve_hours: Some(120),
            active: None,
        },
        FollowUpRuleInput {
            name: "Hyvitys mainittu".into(),
            trigger: "words".into(),
            threshold: None,
            question: None,
            terms: Some(vec!["hyvitys".into(), "palautus".into(), "refund".into()]),
            scope: None,
            scope_id: None,
            unit_id: unit("customer-service").await?,
            contact_hours: Some(48),
            resolve_hours: Some(240),
            active: None,
        },
        FollowUpRuleInput {
            name: "Mittarihälytys".into(),
            trigger: "alert".into(),
            threshold: None,
            question: None,
            terms: None,
            scope: None,
            scope_id: None,
            unit_id: unit("customer-service").await?,
            contact_hours: Some(72),
            resolve_hours: Some(336),
            active: None,
        },
    ];
    for r in rules {
        let data = r.parse().map_err(Error::Invalid)?;
        store.create(ws, &data).await?;
    }
    Ok(())
}

/// Captures marked "needs follow-up" open one, as they would when recorded.
async fn capture_follow_ups(store: &Store, ws: Id, encounters: &mut [NewEncounter]) -> Result<()> {
    for e in encounters.iter_mut() {
        let Some(c) = e.capture.as_mut() else {
            continue;
        };
        c.follow_up = crate::followups::for_capture(
            store,
            ws,
            e.touchpoint_id,
            e.text.as_deref().unwrap_or_default(),
            c.needs_follow_up,
            e.customer.clone(),
            e.case_ref.clone(),
        )
        .await?;
    }
    Ok(())
}

/// Root causes the demo's closed follow-ups name, by touchpoint: the restaurant car's
/// problems are mostly the partner's, refunds' mostly information that did not move.
fn demo_cause(rng: &mut StdRng, touchpoint_slug: &str) -> &'static str {
    use kohtaamo_domain::followups::ROOT_CAUSES;
    let weighted: &[(&str, u32)] = match touchpoint_slug {
        "restaurant-car" => &[("partner", 6), ("process", 2), ("staff-behaviour", 1)],
        "refund-request" => &[("information", 5), ("it-system", 3), ("policy", 2)],
        _ => &[],
    };
    let total: u32 = weighted.iter().map(|w| w.1).sum();
    if total == 0 || rng.gen_bool(0.25) {
        return ROOT_CAUSES[rng.gen_range(0..ROOT_CAUSES.len())];
    }
    let mut pick = rng.gen_range(0..total);
    for (c, w) in weighted {
        if pick < *w {
            return c;
        }
        pick -= w;
    }
    "process"
}

/// The demo's follow-ups as a year of handling left them: older than ten days, nearly
/// all closed with a root cause (contacted within a day or two, resolved a few days
/// later); the last ten days' a mix of new (some overdue), contacted and resolved.
async fn settle_follow_ups(
    store: &Store,
    ws: Id,
    seed: u64,
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    use kohtaamo_domain::followups::Status;
    use kohtaamo_storage::followups::{FollowUpFilter, Settled};
    let mut rng = StdRng::seed_from_u64(seed ^ 0xF011_0F0F);
    let all = store
        .follow_ups(
            ws,
            &FollowUpFilter {
                limit: i64::MAX,
                ..Default::default()
            },
        )
        .await?;
    let slugs: HashMap<Id, String> = store
        .list::<kohtaamo_domain::model::TouchpointData>(ws, &ListQuery::all())
        .await?
        .items
        .into_iter()
        .map(|t| (t.id, t.data.slug.to_string()))
        .collect();
    let t = |d: chrono::DateTime<Utc>| d.min(now).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut settled = vec![];
    for f in &all {
        let Ok(opened) = chrono::DateTime::parse_from_rfc3339(&f.created_at) else {
            continue;
        };
        let opened = opened.with_timezone(&Utc);
        let age = (now - opened).num_days();
        let contacted = opened + Duration::hours(rng.gen_range(2..60));
        let resolved = contacted + Duration::hours(rng.gen_range(4..200));
        let closed = resolved + Duration::hours(rng.gen_range(1..48));
        let mut status = match (age, rng.gen_range(0..100)) {
            (a, p) if a > 10 && p < 94 => Status::Closed,
            (a, _) if a > 10 => Status::Resolved,
            (_, p) if p < 35 => Status::New,
            (_, p) if p < 70 => Status::Contacted,
            _ => Status::Resolved,
        };
        // Nothing dated after now: a step not reached yet is not taken.
        if status == Status::Closed && closed > now {
            status = Status::Resolved;
        }
        if status == Status::Resolved && resolved > now {
            status = Status::Contacted;
        }
        if status == Status::New || contacted > now {
            continue;
        }
        // Without consent there is no contact step: learning only.
        if !f.may_contact && status == Status::Contacted {
            continue;
        }
        let slug = f
            .touchpoint_id
            .and_then(|t| slugs.get(&t))
            .map(String::as_str)
            .unwrap_or_default();
        let cause = demo_cause(&mut rng, slug);
        let closing = status == Status::Closed;
        // Three in five consenting customers answer the recovery survey a day or two
        // after closing (the history holds the ones that stayed closed: 3–5).
        let recovery = (closing
            && f.may_contact
            && f.contact.is_some()
            && rng.gen_bool(0.6)
            && closed + Duration::hours(48) < now)
            .then(|| {
                let score = match rng.gen_range(0..100) {
                    p if p < 45 => 5,
                    p if p < 80 => 4,
                    _ => 3,
                };
                (score, t(closed + Duration::hours(rng.gen_range(2..48))))
            });
        settled.push(Settled {
            id: f.id,
            status,
            recovery,
            contacted_at: f.may_contact.then(|| t(contacted)),
            resolved_at: matches!(status, Status::Resolved | Status::Closed).then(|| t(resolved)),
            closed_at: closing.then(|| t(closed)),
            root_cause: closing.then(|| cause.to_owned()),
            action_taken: closing
                .then(|| DEMO_ACTIONS[rng.gen_range(0..DEMO_ACTIONS.len())].to_owned()),
            by: format!("user:{}", DEMO_STAFF[rng.gen_range(0..DEMO_STAFF.len())]),
        });
    }
    for chunk in settled.chunks(2000) {
        store.settle_follow_ups(ws, chunk).await?;
    }
    Ok(())
}

/// What was done, as the demo's staff wrote it.
const DEMO_ACTIONS: [&str; 5] = [
    "Soitettu asiakkaalle, pahoiteltu ja korvattu matka.",
    "Hyvitys maksettu; ohjeistettu lipunmyynti.",
    "Asia viety kumppanin kanssa sovittuun palaveriin.",
    "Called the customer and explained; voucher sent.",
    "Process fixed with the team; customer informed by e-mail.",
];

/// The demo's refund claims: the train trip journey gets customer-facing steps, and
/// 400 cases of the last 60 days stand in every step — most on time, some overdue in
/// checking or in the decision, a few waiting for a receipt from the customer (who
/// replies on the status page, as a few others ask when they hear back). Their
/// customers open the status page (more often just after a change), and about 60 % of
/// the done ones answer the closing survey — worse after a slow decision.
async fn demo_cases(store: &Store, ws: Id, seed: u64, now: chrono::NaiveDateTime) -> Result<()> {
    use kohtaamo_domain::cases::{CaseInput, StatusInput, StepInput, StepsInput};
    let journey = store
        .list::<kohtaamo_domain::model::JourneyData>(ws, &ListQuery::all())
        .await?
        .items
        .into_iter()
        .find(|j| j.data.slug.as_str() == "train-trip")
        .map(|j| j.id);
    let unit = store
        .list::<kohtaamo_domain::model::UnitData>(ws, &ListQuery::all())
        .await?
        .items
        .into_iter()
        .find(|u| u.data.slug.as_str() == "customer-service")
        .map(|u| u.id);
    let Some(journey) = journey else {
        return Ok(());
    };
    let t = |fi: &str, en: &str, sv: &str| -> BTreeMap<String, String> {
        [("fi", fi), ("en", en), ("sv", sv)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let step = |key: &str, name, meaning, next, days, statuses: &[&str]| StepInput {
        key: key.into(),
        name,
        meaning,
        next,
        expected_days: days,
        statuses: statuses.iter().map(|s| s.to_string()).collect(),
    };
    let steps = StepsInput {
        steps: vec![
            step(
                "received",
                t(
                    "Hakemus vastaanotettu",
                    "Claim received",
                    "Ansökan mottagen",
                ),
                t(
                    "Olemme saaneet hyvityshakemuksesi.",
                    "We have your refund claim.",
                    "Vi har fått din ansökan om ersättning.",
                ),
                t(
                    "Tarkistamme junan myöhästymisen ja lippusi tiedot.",
                    "We check your train's delay and your ticket.",
                    "Vi kontrollerar tågets försening och din biljett.",
                ),
                Some(2),
                &["new", "triage"],
            ),
            step(
                "checking",
                t("Käsittelyssä", "Being checked", "Under behandling"),
                t(
                    "Käsittelijä tarkistaa hakemustasi.",
                    "A handler is checking your claim.",
                    "En handläggare granskar din ansökan.",
                ),
                t(
                    "Saat päätöksen sähköpostiisi.",
                    "You get the decision by e-mail.",
                    "Du får beslutet per e-post.",
                ),
                Some(7),
                &["checking", "waiting-customer", "resumed"],
            ),
            step(
                "decided",
                t("Päätös tehty", "Decision made", "Beslut fattat"),
                t(
                    "Hakemuksesi on ratkaistu.",
                    "Your claim has been decided.",
                    "Din ansökan har avgjorts.",
                ),
                t(
                    "Hyväksytty hyvitys maksetaan tilillesi.",
                    "An approved refund is paid to your account.",
                    "En godkänd ersättning betalas till ditt konto.",
                ),
                Some(5),
                &["approved", "rejected"],
            ),
            step(
                "paid",
                t("Valmis", "Done", "Klart"),
                t(
                    "Hyvitys on maksettu tai asia on päätetty.",
                    "The refund is paid or the matter is closed.",
                    "Ersättningen är betald eller ärendet avslutat.",
                ),
                BTreeMap::new(),
                None,
                &["paid", "closed"],
            ),
        ],
    };
    crate::cases::set_steps(
        store,
        ws,
        kohtaamo_domain::model::Role::Admin,
        journey,
        &steps,
    )
    .await?;
    let by = crate::encounters::Recorder("system:demo".into());
    let mut rng = StdRng::seed_from_u64(seed ^ 0xCA5E);
    let titles = [
        ("fi", "Myöhästyneen junan hyvitys"),
        ("fi", "Peruttu yhteys: lipun palautus"),
        ("en", "Refund for a late train"),
        ("sv", "Ersättning för försenat tåg"),
    ];
    let now = now.and_utc();
    let closing = match crate::cases::closing_survey(store, ws, journey).await? {
        Some((id, _, tp)) => Some((
            id,
            tp,
            store
                .get::<kohtaamo_domain::survey::SurveyData>(ws, id)
                .await?
                .data,
        )),
        None => None,
    };
    let mut opens: Vec<(Id, Id, String, i64)> = vec![];
    let mut answers: Vec<NewResponse> = vec![];
    let mut replies: Vec<NewEncounter> = vec![];
    let snapshot = store.snapshot(ws).await?;
    for n in 0..400u32 {
        let opened = now - Duration::minutes(rng.gen_range(30..60 * 24 * 60));
        let (lang, title) = titles[rng.gen_range(0..titles.len())];
        let case = CaseInput {
            id: format!("refund-{n:05}"),
            journey_id: journey,
            status: "new".into(),
            at: Some(opened.to_rfc3339()),
            customer: Some(format!("cust-{:06}", rng.gen_range(0..4000))),
            unit_id: unit,
            language: Some(lang.into()),
            title: Some(title.into()),
            ask: None,
            ask_due: None,
            // The demo's second factor: a postcode.
            verifier: Some(format!("{:05}", 100 + (n * 37) % 900)),
            notify_email: None,
        };
        let (c, _) = crate::cases::create(store, ws, &by, &case, (now, None)).await?;
        // The path a claim takes, each step's length in hours; stopped at now.
        let waits = rng.gen_bool(0.15);
        let slow = rng.gen_bool(0.2);
        let mut path: Vec<(&str, i64, Option<&str>)> = vec![
            ("triage", rng.gen_range(2..30), None),
            ("checking", rng.gen_range(4..40), None),
        ];
        if waits {
            path.push(("waiting-customer", rng.gen_range(24..72), Some("ask")));
            path.push(("resumed", rng.gen_range(24..96), None));
        }
        let decided = if rng.gen_bool(0.85) {
            "approved"
        } else {
            "rejected"
        };
        path.push((
            decided,
            if slow {
                rng.gen_range(200..300)
            } else {
                rng.gen_range(48..150)
            },
            None,
        ));
        path.push((
            if decided == "approved" {
                "paid"
            } else {
                "closed"
            },
            rng.gen_range(24..100),
            None,
        ));
        let mut at = opened;
        let mut last = "new";
        for (status, hours, ask) in path {
            at += Duration::hours(hours);
            if at >= now {
                break;
            }
            last = status;
            // Some customers write on their page: when asked for something, and now
            // and then while the case is being checked.
            let asked = ask.is_some();
            if asked || (status == "checking" && rng.gen_bool(0.08)) {
                let text = match (asked, lang) {
                    (true, "fi") => "Lähetin kuvan lipusta sähköpostilla.",
                    (true, "sv") => "Jag skickade en bild av biljetten per e-post.",
                    (true, _) => "I sent a photo of my ticket by e-mail.",
                    (false, "fi") => "Milloin saan päätöksen? Juna oli 74 minuuttia myöhässä.",
                    (false, "sv") => "När får jag beslutet?",
                    (false, _) => "When will I hear back? The train was 74 minutes late.",
                };
                let written = at + Duration::hours(rng.gen_range(2..20));
                if written < now {
                    replies.push(crate::cases::reply_encounter(
                        &snapshot,
                        &c,
                        (&format!("demo{n}{status}"), text),
                        written,
                    ));
                }
            }
            // The customer looks now and then, and mostly just after a change.
            for _ in 0..rng.gen_range(0..3) {
                let seen = at + Duration::hours(rng.gen_range(0..48));
                if seen < now {
                    let hour = kohtaamo_domain::cases::hour_of(seen);
                    opens.push((ws, c.id, hour, 1));
                }
            }
            if rng.gen_bool(0.3) {
                let seen = at - Duration::hours(rng.gen_range(1..60));
                opens.push((ws, c.id, kohtaamo_domain::cases::hour_of(seen), 1));
            }
            let due = (at + Duration::days(10)).date_naive().to_string();
            let (ask, ask_due, note) = match (ask, lang) {
                (Some(_), "fi") => (
                    Some("Kuva lipusta tai kuitista".to_string()),
                    Some(due),
                    Some("Tarvitsemme vielä lipun tiedot.".to_string()),
                ),
                (Some(_), "sv") => (
                    Some("En bild av biljetten eller kvittot".to_string()),
                    Some(due),
                    Some("Vi behöver biljettuppgifterna.".to_string()),
                ),
                (Some(_), _) => (
                    Some("A photo of your ticket or receipt".to_string()),
                    Some(due),
                    Some("We still need your ticket details.".to_string()),
                ),
                (None, _) => (None, None, None),
            };
            let change = StatusInput {
                status: status.into(),
                at: Some(at.to_rfc3339()),
                note,
                ask,
                ask_due,
            };
            crate::cases::change(store, ws, c.id, &by, &change, (now, None)).await?;
        }
        if let (true, Some((survey, tp, data))) = (
            matches!(last, "paid" | "closed") && rng.gen_bool(0.6),
            &closing,
        ) {
            let quality = 0.4 - if slow { 1.0 } else { 0.0 } - if waits { 0.3 } else { 0.0 }
                + rng.gen_range(-0.4..0.4);
            let raw = answers_for(&mut rng, data, "", quality, lang);
            let answered = (at + Duration::hours(rng.gen_range(1..30))).min(now);
            if let (Ok(a), Ok(key)) = (
                data.validate_answers(&raw, true),
                ResponseKey::parse(&format!("demo-case-{}", c.client_id)),
            ) {
                answers.push(NewResponse {
                    workspace_id: ws,
                    survey_id: *survey,
                    key,
                    hidden: kohtaamo_domain::survey::Hidden {
                        touchpoint_id: *tp,
                        channel: Some("web".into()),
                        locale: kohtaamo_domain::text::Lang::parse(lang).ok(),
                        customer_ref: c.customer.clone(),
                        case_ref: Some(c.client_id.clone()),
                        custom: BTreeMap::new(),
                    },
                    scores: a.scores(data),
                    answers: a,
                    complete: true,
                    invitation: None,
                    at: Some(answered.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                    suspect: None,
                    follow_ups: vec![],
                    consent: None,
                });
            }
        }
    }
    store.add_case_opens(&opens).await?;
    store.record_encounters(ws, &replies).await?;
    flush(store, &mut answers).await?;
    Ok(())
}
