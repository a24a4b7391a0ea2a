//! Server-side render time of the journey map and blueprint pages for a journey of 12
//! stages and 150 touchpoints (with 40 process steps), through the whole router: session
//! lookup, queries, layout and templates; and of their A3 PDFs (layout in bands, svg2pdf
//! with embedded fonts). Prints median and p95 over 200 requests each (36 for a PDF).
//!
//!     cargo bench -p kohtaamo-http --bench journey_render

use std::collections::BTreeMap;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use kohtaamo_domain::model::*;
use kohtaamo_storage::{testing, Backend, Store};
use tower::ServiceExt;

fn t(s: &str) -> BTreeMap<String, String> {
    [
        ("fi".to_string(), format!("{s} (fi)")),
        ("en".to_string(), s.to_string()),
    ]
    .into()
}

#[tokio::main]
async fn main() {
    let db = testing::fresh(Backend::Sqlite).await;
    let store = Store::connect(&db.url).await.unwrap();
    store.ensure_admin(Some("bench-password")).await.unwrap();
    let admin = store.user_by_name("admin").await.unwrap().unwrap();
    let ws_data = WorkspaceInput {
        slug: "bench".into(),
        name: t("Bench"),
        default_language: "fi".into(),
    }
    .parse()
    .unwrap();
    let ws = store
        .create_workspace(&ws_data, Some(admin.id))
        .await
        .unwrap();
    let unit = store
        .create(
            ws,
            &UnitInput {
                slug: "u".into(),
                name: t("Unit"),
                description: BTreeMap::new(),
                parent_id: None,
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap()
        .id;
    let seg = store
        .create(
            ws,
            &SegmentInput {
                slug: "s".into(),
                name: t("Segment"),
                description: BTreeMap::new(),
                needs: None,
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap()
        .id;
    let j = store
        .create(
            ws,
            &JourneyInput {
                slug: "j".into(),
                name: t("Journey"),
                description: BTreeMap::new(),
                segment_id: seg,
                package_ids: None,
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap()
        .id;
    let lanes = [
        "customer_action",
        "frontstage",
        "backstage",
        "support_process",
    ];
    let mut tps = vec![];
    for s in 0..12 {
        let stage = store
            .create(
                ws,
                &StageInput {
                    slug: format!("s{s}"),
                    name: t(&format!("Stage {s}")),
                    description: BTreeMap::new(),
                    journey_id: j,
                }
                .parse()
                .unwrap(),
            )
            .await
            .unwrap()
            .id;
        let n = if s < 6 { 13 } else { 12 };
        for k in 0..n {
            let idx = tps.len();
            let tp = TouchpointInput {
                stage_id: stage,
                slug: format!("t{idx}"),
                name: t(&format!("Touchpoint number {idx}")),
                description: BTreeMap::new(),
                channel: "web".into(),
                owner: Some(Owner::Unit(unit)),
                element_id: None,
                lane: lanes[k % 4].into(),
                interface: Some("company_customer".into()),
                emotion: (idx % 5) as i64 - 2,
                moment_of_truth: idx % 7 == 0,
                presence: None,
            };
            tps.push(store.create(ws, &tp.parse().unwrap()).await.unwrap().id);
        }
    }
    assert_eq!(tps.len(), 150);
    for k in 0..40 {
        let step = ProcessStepInput {
            slug: format!("p{k}"),
            name: t(&format!("Step {k}")),
            description: BTreeMap::new(),
            owner_unit_id: Some(unit),
            duration_minutes: Some(10),
            touchpoint_ids: Some(vec![tps[k * 3], tps[k * 3 + 1]]),
        };
        store.create(ws, &step.parse().unwrap()).await.unwrap();
    }
    let (session, _) = store
        .create_session(admin.id, chrono::Duration::hours(1))
        .await
        .unwrap();
    let app = kohtaamo_http::app(store.clone(), kohtaamo_http::HttpConfig::default());
    for (label, path, rounds) in [
        ("journey map", format!("/w/bench/journeys/{j}"), 220),
        ("blueprint", format!("/w/bench/journeys/{j}/blueprint"), 220),
        ("map PDF (A3)", format!("/w/bench/journeys/{j}/map.pdf"), 40),
        (
            "blueprint PDF",
            format!("/w/bench/journeys/{j}/blueprint.pdf"),
            40,
        ),
    ] {
        let mut times = vec![];
        let mut size = 0;
        let mut sent = 0;
        for round in 0..rounds {
            let req = Request::get(&path)
                .header(header::COOKIE, format!("kohtaamo_session={session}"))
                .header(header::ACCEPT_ENCODING, "gzip")
                .body(Body::empty())
                .unwrap();
            let start = Instant::now();
            let resp = app.clone().oneshot(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let gzipped = resp.headers().get(header::CONTENT_ENCODING).is_some();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            let elapsed = start.elapsed();
            // Sent compressed (when it is text); its size as read is the decompressed one.
            sent = body.len();
            let body = if gzipped {
                let mut out = vec![];
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut out)
                    .unwrap();
                axum::body::Bytes::from(out)
            } else {
                body
            };
            size = body.len();
            if round == 0 {
                // BENCH_DUMP=dir keeps one body of each page, to see what a page weighs.
                if let Ok(dir) = std::env::var("BENCH_DUMP") {
                    let name = label.replace([' ', '(', ')'], "_");
                    std::fs::write(format!("{dir}/{name}"), &body).unwrap();
                }
            }
            if round >= rounds / 10 {
                times.push(elapsed.as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let p95 = times[times.len() * 95 / 100];
        println!("{label:14} 12 stages, 150 touchpoints: median {median:.2} ms, p95 {p95:.2} ms over {} requests; {size} bytes ({sent} bytes sent)", times.len());
    }
}
