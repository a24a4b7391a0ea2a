//! The seeded generator of a realistic feedback history for a workspace's active
//! surveys (`kohtaamo demo responses`, and `serve --demo` on first start). The same
//! seed gives the same responses.
//!
//! Model: each *trip* has a customer (pseudonymous `cust-…`), a day within the last
//! `days` days (weekdays busier), a language (fi 70 %, en 25 %, sv 5 %) and a hidden
//! trip quality. Each touchpoint survey is answered with probability 0.35; its
//! answers come from the touchpoint's own quality (the restaurant car and the refund
//! process are the weakest encounters) plus the trip's, with noise. The journey survey
//! is answered on half the trips; its NPS follows the trip's touchpoint experiences,
//! so touchpoint → journey impact can be estimated. Touchpoint and journey answers of
//! one trip share `customer_ref` and `case_ref`. Open answers come from a small fi/en
//! phrase bank matching the score. 4 % of responses are partial; impressions are
//! written as responses ÷ a response rate of about 30 %.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use chrono::{Datelike, Duration, Utc};
use kohtaamo_domain::survey::{QuestionKind, ResponseKey, SurveyData, SurveyStatus};
use kohtaamo_domain::Id;
use kohtaamo_storage::feedback::{write_batch_direct, NewResponse};
use kohtaamo_storage::{ListQuery, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

pub struct Plan {
    pub seed: u64,
    pub trips: u64,
    pub days: i64,
}

/// Per touchpoint slug: how good the encounter usually is (−1 … 1).
fn touchpoint_quality(slug: &str) -> f64 {
    match slug {
        "restaurant-car-visit" => -0.55,
        "refund-request" => -0.45,
        "ticket-machine-purchase" => -0.1,
        "buy-ticket-app" => 0.25,
        "buy-ticket-online" => 0.35,
        "assistance-onboard" => 0.5,
        _ => 0.1,
    }
}

const NEG_FI: &[&str] = &[
    "Ravintolavaunusta oli ruoka loppu",
    "Juna oli myöhässä eikä siitä kerrottu",
    "Lipun ostaminen sovelluksella oli hankalaa",
    "Liian kallis hinta",
    "Kahvi oli kylmää ja jonot pitkät",
    "Avustaja ei tullut ajoissa",
    "Hyvityksen käsittely kesti liian kauan",
    "Automaatti ei hyväksynyt korttia",
];
const POS_FI: &[&str] = &[
    "Ystävällinen henkilökunta",
    "Juna oli ajoissa",
    "Lipun osto oli helppoa ja nopeaa",
    "Hyvä kahvi ravintolavaunussa",
    "Siisti ja rauhallinen vaunu",
];
const NEG_EN: &[&str] = &[
    "The restaurant car had run out of food",
    "The train was late and nobody told us",
    "Buying a ticket in the app was confusing",
    "Too expensive",
    "The coffee was cold and the queue long",
    "The assistant did not arrive on time",
    "The refund took far too long",
    "The machine did not accept my card",
];
const POS_EN: &[&str] = &[
    "Friendly staff",
    "The train was on time",
    "Buying the ticket was quick and easy",
    "Good coffee in the restaurant car",
    "Clean and quiet carriage",
];

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
                let bank = match (lang == "fi", sentiment < 0.6) {
                    (true, true) => NEG_FI,
                    (true, false) => POS_FI,
                    (false, true) => NEG_EN,
                    (false, false) => POS_EN,
                };
                Some(Value::from(bank[rng.gen_range(0..bank.len())]))
            }
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
        .with_context(|| format!("no workspace '{ws_slug}'"))?;
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
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let today = Utc::now().date_naive();
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
        let mut emit = |rng: &mut StdRng,
                        s: &Live,
                        quality: f64,
                        tp: Option<Id>,
                        batch: &mut Vec<NewResponse>| {
            let raw = answers_for(rng, &s.data, quality, lang);
            let complete = !rng.gen_bool(0.04);
            let Ok(answers) = s.data.validate_answers(&raw, complete) else {
                return;
            };
            let secs = rng.gen_range(6 * 3600..22 * 3600);
            let at = day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::seconds(secs);
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
            });
        };
        for s in &tp_surveys {
            if rng.gen_bool(0.35) {
                let q = touchpoint_quality(s.touchpoint_slug.as_deref().unwrap_or_default())
                    + trip_quality;
                experienced.push(q);
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
        if batch.len() >= 4000 {
            written += flush(store, &mut batch).await?;
        }
    }
    written += flush(store, &mut batch).await?;
    for ((survey, tp, day), n) in shown {
        // About 30 % of those shown a survey answer it.
        let seen = (n as f64 / 0.3).round() as i64;
        store.add_impressions(ws.id, survey, tp, &day, seen).await?;
    }
    Ok(written)
}

async fn flush(store: &Store, batch: &mut Vec<NewResponse>) -> Result<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    let refs: Vec<&NewResponse> = batch.iter().collect();
    let n = write_batch_direct(store, &refs).await?.len() as u64;
    batch.clear();
    Ok(n)
}
