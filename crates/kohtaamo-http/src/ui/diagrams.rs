//! Layout of the package diagram, the journey map and the service blueprint: pure
//! functions from model records to positioned shapes, rendered by `diagram.svg` (which
//! escapes every text). The same SVG is shown inline and offered as a download.

use std::collections::HashMap;

use askama::Template;
use kohtaamo_domain::model::*;
use kohtaamo_domain::Id;
use kohtaamo_storage::Record;

use crate::i18n::I18n;
use kohtaamo_app::directory::Names;

#[derive(Default)]
pub struct Circle {
    pub cx: i32,
    pub cy: i32,
    pub r: i32,
    pub fill: &'static str,
    pub stroke: &'static str,
    pub class: String,
}
#[derive(Default)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    pub fill: &'static str,
    pub stroke: &'static str,
    pub stroke_width: i32,
    pub dashed: bool,
    pub class: String,
    pub data: Vec<(&'static str, String)>,
    /// Shown on hover and read by screen readers (`<title>`).
    pub title: Option<String>,
}
#[derive(Default)]
pub struct Line {
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
    pub stroke: &'static str,
    pub width: i32,
    pub dashed: bool,
    pub class: String,
    pub data: Vec<(&'static str, String)>,
}
pub struct Polyline {
    pub points: String,
    pub stroke: &'static str,
    pub width: i32,
    pub dashed: bool,
    pub class: String,
    /// Shown on hover and read by screen readers (`<title>`).
    pub title: Option<String>,
}
/// A link over an area of the drawing (drawn last, so it is on top and clickable).
pub struct Link {
    pub href: String,
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    pub title: String,
}
pub struct Text {
    pub x: i32,
    pub y: i32,
    pub size: i32,
    pub anchor: &'static str,
    pub bold: bool,
    pub fill: &'static str,
    pub class: String,
    pub text: String,
}

#[derive(Template, Default)]
#[template(path = "diagram.svg", escape = "html")]
pub struct Svg {
    pub id: String,
    pub class: &'static str,
    pub title: String,
    pub width: i32,
    pub height: i32,
    pub circles: Vec<Circle>,
    pub rects: Vec<Rect>,
    pub lines: Vec<Line>,
    pub polylines: Vec<Polyline>,
    pub texts: Vec<Text>,
    pub links: Vec<Link>,
}

impl Svg {
    /// A drawing with links inside is a group of them, not one image (an image's
    /// content is not interactive for assistive technology).
    pub fn role(&self) -> &'static str {
        if self.links.is_empty() {
            "img"
        } else {
            "group"
        }
    }
}

impl Svg {
    pub fn text(
        &mut self,
        x: i32,
        y: i32,
        (size, anchor, bold): (i32, &'static str, bool),
        class: &str,
        text: impl Into<String>,
    ) {
        self.texts.push(Text {
            x,
            y,
            size,
            anchor,
            bold,
            fill: "#1d2433",
            class: class.into(),
            text: text.into(),
        });
    }
}

/// Breaks a label into at most `lines` lines of about `max` characters at spaces; the
/// last line is shortened with "…" if the label is longer still.
fn wrap(s: &str, max: usize, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let len = cur.chars().count() + word.chars().count() + usize::from(!cur.is_empty());
        if !cur.is_empty() && len > max {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    if out.len() > lines {
        let rest = out[lines - 1..].join(" ");
        out.truncate(lines - 1);
        out.push(fit(&rest, max));
    }
    out.into_iter().map(|l| fit(&l, max)).collect()
}

/// Shortens a label to fit a box; the full text stays in the page's tables.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

const ROLE_FILL: [(&str, &str); 3] = [
    ("core", "#fde68a"),
    ("enabling", "#bfdbfe"),
    ("complementary", "#bbf7d0"),
];

/// The package diagram (seed 001's picture): core services in the centre, enabling
/// services in the ring around them, complementary services in the outer ring. Solid
/// outline = visible to the customer, dashed = hidden; "⚙ IT system" marks IT
/// components (not the IT unit). Every box lies wholly inside its ring.
pub fn package(
    i: &I18n,
    id: Id,
    name: &str,
    elements: &[(ElementRole, &Record<ElementData>)],
    names: &Names,
) -> Svg {
    // Rings (inner, outer radius); every box is placed wholly inside its own ring.
    let rings = [
        (ElementRole::Core, 0, 170),
        (ElementRole::Enabling, 170, 360),
        (ElementRole::Complementary, 360, 550),
    ];
    let size = 2 * 550 + 20;
    let c = size / 2;
    let mut s = Svg {
        id: format!("pkg-{id}"),
        class: "package-diagram",
        title: i.s("diagram-title", "name", name),
        width: size,
        height: size,
        ..Default::default()
    };
    for (role, inner, outer) in rings.iter().rev() {
        let fill = ROLE_FILL
            .iter()
            .find(|(r, _)| *r == role.as_str())
            .map(|(_, f)| *f)
            .unwrap_or("#eee");
        s.circles.push(Circle {
            cx: c,
            cy: c,
            r: *outer,
            fill,
            stroke: "#94a3b8",
            class: format!("ring ring-{} r-{inner}-{outer}", role.as_str()),
        });
    }
    for (k, (role, _, outer)) in rings.iter().enumerate() {
        s.text(
            c,
            if k == 0 { c - 130 } else { c - outer + 24 },
            (15, "middle", true),
            "ring-label",
            i.enum_label("role", role.as_str()),
        );
    }
    for (ring, (role, inner, outer)) in rings.iter().enumerate() {
        let mine: Vec<&&Record<ElementData>> = elements
            .iter()
            .filter(|(r, _)| r == role)
            .map(|(_, e)| e)
            .collect();
        let n = mine.len().max(1) as f64;
        for (k, e) in mine.iter().enumerate() {
            let full = i.text(&e.data.name);
            let lines = wrap(&full, 20, 3);
            // A name longer than three lines keeps its whole text in the box's title.
            let title = lines
                .last()
                .is_some_and(|l| l.ends_with('…'))
                .then_some(full);
            let owner = names.owner(&e.data.owner);
            let extra = usize::from(!owner.is_empty()) + usize::from(e.data.has_it_components);
            let (w, h) = (160, 14 + 16 * (lines.len() + extra) as i32);
            let (x, y) = if *inner == 0 {
                // Core elements stack in the centre.
                let offset = (k as f64 - (n - 1.0) / 2.0) * (h as f64 + 8.0);
                (c as f64, c as f64 + offset)
            } else {
                // Round the ring from the top (the outer ring half a step on, so boxes
                // of neighbouring rings do not line up); the radius keeps all four
                // corners inside the ring.
                let a = -std::f64::consts::FRAC_PI_2
                    + std::f64::consts::TAU * (k as f64 + if ring == 2 { 0.5 } else { 0.0 }) / n;
                let r = inside_ring(
                    a,
                    (w as f64 / 2.0, h as f64 / 2.0),
                    (*inner as f64, *outer as f64),
                );
                (c as f64 + r * a.cos(), c as f64 + r * a.sin())
            };
            let (x, y) = (x.round() as i32, y.round() as i32);
            let top = y - h / 2;
            s.rects.push(Rect {
                x: x - w / 2,
                y: top,
                w,
                h,
                fill: "#ffffff",
                stroke: "#334155",
                stroke_width: 2,
                dashed: !e.data.customer_visible,
                class: format!("el el-{}", role.as_str()),
                data: vec![
                    ("role", role.as_str().into()),
                    ("ring", ring.to_string()),
                    ("visible", e.data.customer_visible.to_string()),
                    ("slug", e.data.slug.to_string()),
                ],
                title,
            });
            let mut line_y = top + 19;
            for l in lines {
                s.text(x, line_y, (13, "middle", true), "el-name", l);
                line_y += 16;
            }
            if !owner.is_empty() {
                s.text(
                    x,
                    line_y,
                    (11, "middle", false),
                    "el-owner",
                    fit(&owner, 26),
                );
                line_y += 16;
            }
            if e.data.has_it_components {
                s.text(x, line_y, (11, "middle", true), "el-it", i.t("it-badge"));
            }
        }
    }
    s
}

/// The radius at which a box of half-size `(hw, hh)` centred at angle `a` lies wholly
/// between `inner` and `outer` (4 px clear of each), as near the ring's middle as
/// possible; the middle when the box is wider than the ring allows.
fn inside_ring(a: f64, (hw, hh): (f64, f64), (inner, outer): (f64, f64)) -> f64 {
    let corners = |r: f64| {
        let (cx, cy) = (r * a.cos(), r * a.sin());
        [(-hw, -hh), (hw, -hh), (-hw, hh), (hw, hh)].map(|(dx, dy)| (cx + dx).hypot(cy + dy))
    };
    // The box's nearest point to the centre may be an edge, not a corner: check the
    // distance from the centre to the rectangle too.
    let nearest = |r: f64| {
        let (cx, cy) = (r * a.cos(), r * a.sin());
        let dx = (cx.abs() - hw).max(0.0);
        let dy = (cy.abs() - hh).max(0.0);
        dx.hypot(dy)
    };
    let fits = |r: f64| {
        let far = corners(r).into_iter().fold(0.0, f64::max);
        nearest(r) >= inner + 4.0 && far <= outer - 4.0
    };
    let mid = (inner + outer) / 2.0;
    (0..=((outer - inner) as i32))
        .flat_map(|d| [mid + d as f64 / 2.0, mid - d as f64 / 2.0])
        .find(|r| fits(*r))
        .unwrap_or(mid)
}

/// A journey as laid out: stages in order, touchpoints in order within each.
pub struct JourneyLayout<'a> {
    pub stages: Vec<(&'a Record<StageData>, Vec<&'a Record<TouchpointData>>)>,
}

impl<'a> JourneyLayout<'a> {
    /// Touchpoints in the journey.
    pub fn touchpoints(&self) -> usize {
        self.stages.iter().map(|(_, t)| t.len()).sum()
    }
}

const LEFT: i32 = 170;
const COL: i32 = 180;

impl<'a> JourneyLayout<'a> {
    /// x of each touchpoint's column centre, and each stage's x range.
    fn columns(&self) -> (HashMap<Id, i32>, Vec<(i32, i32)>) {
        let mut x = LEFT;
        let mut tp = HashMap::new();
        let mut stages = vec![];
        for (_, tps) in &self.stages {
            let start = x;
            for t in tps {
                tp.insert(t.id, x + COL / 2);
                x += COL;
            }
            if tps.is_empty() {
                x += COL;
            }
            stages.push((start, x));
        }
        (tp, stages)
    }
    pub fn width(&self) -> i32 {
        self.columns().1.last().map(|s| s.1).unwrap_or(LEFT) + 20
    }

    /// The journey cut into at most `k` bands of about as many columns each, in order
    /// (for paper: bands stacked on a page read larger than one long strip). A stage
    /// cut in two appears in both bands, with its name.
    pub fn bands(&self, k: usize) -> Vec<JourneyLayout<'a>> {
        let total: usize = self.stages.iter().map(|(_, t)| t.len().max(1)).sum();
        let per = total.div_ceil(k.max(1)).max(1);
        let mut out = vec![];
        let mut band = vec![];
        let mut n = 0;
        for (stage, tps) in &self.stages {
            if tps.is_empty() {
                band.push((*stage, vec![]));
                n += 1;
            } else {
                let mut piece = vec![];
                for t in tps {
                    piece.push(*t);
                    n += 1;
                    if n == per {
                        band.push((*stage, std::mem::take(&mut piece)));
                        out.push(JourneyLayout {
                            stages: std::mem::take(&mut band),
                        });
                        n = 0;
                    }
                }
                if !piece.is_empty() {
                    band.push((*stage, piece));
                }
            }
            if n >= per {
                out.push(JourneyLayout {
                    stages: std::mem::take(&mut band),
                });
                n = 0;
            }
        }
        if !band.is_empty() {
            out.push(JourneyLayout { stages: band });
        }
        out
    }
}

fn stage_headers(s: &mut Svg, i: &I18n, j: &JourneyLayout, ranges: &[(i32, i32)], height: i32) {
    for ((stage, _), (a, b)) in j.stages.iter().zip(ranges) {
        s.rects.push(Rect {
            x: *a + 4,
            y: 10,
            w: b - a - 8,
            h: 34,
            fill: "#e2e8f0",
            stroke: "#94a3b8",
            stroke_width: 1,
            class: "stage".into(),
            ..Default::default()
        });
        s.text(
            (a + b) / 2,
            32,
            (14, "middle", true),
            "stage-name",
            fit(&i.text(&stage.data.name), ((b - a) / 8) as usize),
        );
        s.lines.push(Line {
            x1: *b,
            y1: 10,
            x2: *b,
            y2: height - 10,
            stroke: "#cbd5e1",
            width: 1,
            class: "stage-sep".into(),
            ..Default::default()
        });
    }
}

fn channel_label(i: &I18n, c: &Channel, custom: &HashMap<String, String>) -> String {
    match c {
        Channel::Builtin(b) => i.enum_label("channel", b.as_str()),
        Channel::Custom(slug) => custom
            .get(slug.as_str())
            .cloned()
            .unwrap_or_else(|| slug.to_string()),
    }
}

/// A touchpoint's measured score on the map: the text and its heat colour, its
/// experience index, and whether it is its journey's weakest encounter (`Some(true)`)
/// or tied for it (`Some(false)`).
pub struct ScoreCell {
    pub label: String,
    pub fill: &'static str,
    pub index: Option<f64>,
    pub weakest: Option<bool>,
}

/// The score lane's cell of the touchpoint in column `x`, top at `y` (heat colour, n).
fn score_cell(
    s: &mut Svg,
    i: &I18n,
    x: i32,
    y: i32,
    cell: Option<&ScoreCell>,
    t: &Record<TouchpointData>,
) {
    let (label, fill) = match cell {
        Some(c) => (c.label.clone(), c.fill),
        None => ("–".to_owned(), "#f8fafc"),
    };
    let weakest = cell.and_then(|c| c.weakest);
    let mut data = vec![];
    let (stroke, stroke_width, mark) = match weakest {
        Some(true) => {
            data.push(("weakest", t.id.to_string()));
            ("#7f1d1d", 4, Some(i.t("map-weakest")))
        }
        Some(false) => {
            data.push(("tied", t.id.to_string()));
            ("#7f1d1d", 2, Some(i.t("map-tied")))
        }
        None => ("#94a3b8", 1, None),
    };
    s.rects.push(Rect {
        x: x - COL / 2 + 8,
        y,
        w: COL - 16,
        h: 36,
        fill,
        stroke,
        stroke_width,
        dashed: weakest == Some(false),
        class: if weakest == Some(true) {
            "score weakest".into()
        } else {
            "score".into()
        },
        data,
        ..Default::default()
    });
    match mark {
        Some(m) => {
            s.text(x, y + 15, (11, "middle", true), "tp-weakest", fit(&m, 28));
            s.text(x, y + 30, (12, "middle", true), "tp-score", fit(&label, 26));
        }
        None => s.text(x, y + 23, (12, "middle", true), "tp-score", fit(&label, 26)),
    }
}

/// A link from a touchpoint's box to its dashboard, when the drawing is on a page.
fn link_touchpoint(
    s: &mut Svg,
    links: Option<&str>,
    t: &Record<TouchpointData>,
    i: &I18n,
    (x, y, w, h): (i32, i32, i32, i32),
) {
    if let Some(base) = links {
        s.links.push(Link {
            href: format!("{base}/dashboard/touchpoint/{}", t.id),
            x,
            y,
            w,
            h,
            title: i.s("map-open-touchpoint", "name", &i.text(&t.data.name)),
        });
    }
}

/// The journey map: stages as columns; rows for touchpoints, channels, owners, the
/// expected-emotion curve, moments of truth and the measured scores.
pub fn journey_map(
    i: &I18n,
    (id, name): (Id, &str),
    j: &JourneyLayout,
    names: &Names,
    channels: &HashMap<String, String>,
    scores: &HashMap<Id, ScoreCell>,
    links: Option<&str>,
) -> Svg {
    let (cols, ranges) = j.columns();
    let rows = [
        ("row-touchpoints", 60, 70),
        ("row-channels", 140, 36),
        ("row-owners", 184, 36),
        ("row-emotion", 228, 150),
        ("row-moments", 386, 40),
        ("row-scores", 434, 44),
    ];
    let height = 488;
    let mut s = Svg {
        id: format!("map-{id}"),
        class: "journey-map",
        title: i.s("diagram-title", "name", name),
        width: j.width(),
        height,
        ..Default::default()
    };
    for (key, y, h) in rows {
        s.rects.push(Rect {
            x: 6,
            y,
            w: LEFT - 12,
            h,
            fill: "#f1f5f9",
            stroke: "#cbd5e1",
            stroke_width: 1,
            class: "row-label".into(),
            ..Default::default()
        });
        s.text(14, y + 22, (13, "start", true), "row-name", i.t(key));
    }
    // The two emotion curves' key, in the row's label.
    s.texts.push(Text {
        x: 14,
        y: 228 + 48,
        size: 12,
        anchor: "start",
        bold: false,
        fill: "#0b5cad",
        class: "legend".into(),
        text: format!("— {}", i.t("emotion-expected")),
    });
    s.texts.push(Text {
        x: 14,
        y: 228 + 68,
        size: 12,
        anchor: "start",
        bold: false,
        fill: "#b45309",
        class: "legend".into(),
        text: format!("- - {}", i.t("emotion-measured")),
    });
    stage_headers(&mut s, i, j, &ranges, height);
    let mut curve = vec![];
    let mut measured = vec![];
    for (_, tps) in &j.stages {
        for t in tps {
            let x = cols[&t.id];
            let d = &t.data;
            link_touchpoint(&mut s, links, t, i, (x - COL / 2 + 8, 62, COL - 16, 66));
            s.rects.push(Rect {
                x: x - COL / 2 + 8,
                y: 62,
                w: COL - 16,
                h: 66,
                fill: "#ffffff",
                stroke: "#334155",
                stroke_width: 1,
                class: "touchpoint".into(),
                data: vec![
                    ("slug", d.slug.to_string()),
                    ("lane", d.lane.as_str().into()),
                ],
                ..Default::default()
            });
            let lines = wrap(&i.text(&d.name), 20, 3);
            let first = 99 - 8 * lines.len() as i32;
            for (k, line) in lines.into_iter().enumerate() {
                s.text(
                    x,
                    first + 16 * k as i32,
                    (12, "middle", true),
                    "tp-name",
                    line,
                );
            }
            s.text(
                x,
                160,
                (12, "middle", false),
                "tp-channel",
                fit(&channel_label(i, &d.channel, channels), 24),
            );
            s.text(
                x,
                206,
                (12, "middle", false),
                "tp-owner",
                fit(&names.owner(&d.owner), 24),
            );
            let y = 303 - d.emotion.value() as i32 * 30;
            curve.push(format!("{x},{y}"));
            // Measured: the experience index on the same −2 … 2 scale (50 = neutral).
            if let Some(v) = scores.get(&t.id).and_then(|c| c.index) {
                let my = 303 - ((v - 50.0) / 25.0 * 30.0).round() as i32;
                measured.push(format!("{x},{my}"));
                s.circles.push(Circle {
                    cx: x,
                    cy: my,
                    r: 5,
                    fill: "#b45309",
                    stroke: "#7c2d12",
                    class: "emotion-measured".into(),
                });
            }
            s.circles.push(Circle {
                cx: x,
                cy: y,
                r: 6,
                fill: if d.emotion.value() < 0 {
                    "#f87171"
                } else {
                    "#4ade80"
                },
                stroke: "#334155",
                class: "emotion".into(),
            });
            if d.moment_of_truth {
                s.text(
                    x,
                    412,
                    (13, "middle", true),
                    "moment",
                    i.t("moment-of-truth"),
                );
            }
            score_cell(&mut s, i, x, 438, scores.get(&t.id), t);
        }
    }
    s.lines.push(Line {
        x1: LEFT,
        y1: 303,
        x2: s.width - 20,
        y2: 303,
        stroke: "#94a3b8",
        width: 1,
        dashed: true,
        class: "emotion-zero".into(),
        ..Default::default()
    });
    if !curve.is_empty() {
        s.polylines.push(Polyline {
            points: curve.join(" "),
            stroke: "#0b5cad",
            width: 3,
            dashed: false,
            class: "emotion-curve".into(),
            title: None,
        });
    }
    if measured.len() > 1 {
        s.polylines.push(Polyline {
            points: measured.join(" "),
            stroke: "#b45309",
            width: 3,
            dashed: true,
            class: "emotion-measured-curve".into(),
            title: None,
        });
    }
    s
}

const LANES: [Lane; 4] = [
    Lane::CustomerAction,
    Lane::Frontstage,
    Lane::Backstage,
    Lane::SupportProcess,
];
/// The three lines between the four lanes, top to bottom.
const BLUEPRINT_LINES: [&str; 3] = ["interaction", "visibility", "internal-interaction"];

/// The service blueprint: the four lanes separated by the lines of interaction,
/// visibility and internal interaction, touchpoints in their lane, and process steps
/// below the touchpoints they serve, linked to them; a score lane above the lanes.
pub fn blueprint(
    i: &I18n,
    (id, name): (Id, &str),
    j: &JourneyLayout,
    steps: &[&Record<ProcessStepData>],
    names: &Names,
    scores: &HashMap<Id, ScoreCell>,
    links: Option<&str>,
) -> Svg {
    let (cols, ranges) = j.columns();
    let score_top = 60;
    let lane_top = score_top + 48;
    let lane_h = 90;
    let steps_top = lane_top + lane_h * 4 + 20;
    // Steps placed under the first touchpoint they serve in this journey; stacked.
    let mut placed: Vec<(i32, i32, &Record<ProcessStepData>)> = vec![];
    let mut used: HashMap<i32, i32> = HashMap::new();
    for st in steps {
        if let Some(x) = st.data.touchpoint_ids.iter().find_map(|t| cols.get(t)) {
            let k = used.entry(*x).or_insert(0);
            placed.push((*x, steps_top + 10 + *k * 60, st));
            *k += 1;
        }
    }
    let rows = used.values().copied().max().unwrap_or(1).max(1);
    let height = steps_top + 20 + rows * 60 + 10;
    let mut s = Svg {
        id: format!("bp-{id}"),
        class: "blueprint",
        title: i.s("diagram-title", "name", name),
        width: j.width(),
        height,
        ..Default::default()
    };
    for (k, lane) in LANES.iter().enumerate() {
        let y = lane_top + k as i32 * lane_h;
        s.rects.push(Rect {
            x: 6,
            y: y + 4,
            w: LEFT - 12,
            h: lane_h - 8,
            fill: "#f1f5f9",
            stroke: "#cbd5e1",
            stroke_width: 1,
            class: "lane-label".into(),
            data: vec![("lane", lane.as_str().into())],
            ..Default::default()
        });
        s.text(
            14,
            y + 28,
            (13, "start", true),
            "lane-name",
            fit(&i.enum_label("lane", lane.as_str()), 20),
        );
    }
    s.rects.push(Rect {
        x: 6,
        y: score_top,
        w: LEFT - 12,
        h: 40,
        fill: "#f1f5f9",
        stroke: "#cbd5e1",
        stroke_width: 1,
        class: "row-label".into(),
        ..Default::default()
    });
    s.text(
        14,
        score_top + 24,
        (13, "start", true),
        "row-name",
        i.t("row-scores"),
    );
    for (_, tps) in &j.stages {
        for t in tps {
            score_cell(&mut s, i, cols[&t.id], score_top + 2, scores.get(&t.id), t);
        }
    }
    for (k, key) in BLUEPRINT_LINES.iter().enumerate() {
        let y = lane_top + (k as i32 + 1) * lane_h;
        s.lines.push(Line {
            x1: 6,
            y1: y,
            x2: s.width - 10,
            y2: y,
            stroke: "#0b5cad",
            width: 2,
            dashed: k == 1,
            class: "bp-line".into(),
            data: vec![("line", (*key).into())],
        });
        s.text(
            s.width - 14,
            y - 5,
            (11, "end", false),
            "bp-line-label",
            i.t(&format!("line-{key}")),
        );
    }
    let steps_line = steps_top - 10;
    s.lines.push(Line {
        x1: 6,
        y1: steps_line,
        x2: s.width - 10,
        y2: steps_line,
        stroke: "#cbd5e1",
        width: 1,
        class: "steps-sep".into(),
        ..Default::default()
    });
    s.text(
        14,
        steps_top + 24,
        (13, "start", true),
        "lane-name",
        i.t("row-process-steps"),
    );
    stage_headers(&mut s, i, j, &ranges, height);
    let mut centre: HashMap<Id, (i32, i32)> = HashMap::new();
    for (_, tps) in &j.stages {
        for t in tps {
            let x = cols[&t.id];
            let k = LANES.iter().position(|l| *l == t.data.lane).unwrap_or(0) as i32;
            let y = lane_top + k * lane_h + 14;
            s.rects.push(Rect {
                x: x - COL / 2 + 8,
                y,
                w: COL - 16,
                h: lane_h - 28,
                fill: "#ffffff",
                stroke: "#334155",
                stroke_width: if t.data.moment_of_truth { 3 } else { 1 },
                class: "touchpoint".into(),
                data: vec![
                    ("slug", t.data.slug.to_string()),
                    ("lane", t.data.lane.as_str().into()),
                ],
                ..Default::default()
            });
            link_touchpoint(
                &mut s,
                links,
                t,
                i,
                (x - COL / 2 + 8, y, COL - 16, lane_h - 28),
            );
            let lines = wrap(&i.text(&t.data.name), 20, 2);
            for (k, line) in lines.iter().enumerate() {
                s.text(
                    x,
                    y + 18 + 15 * k as i32,
                    (12, "middle", true),
                    "tp-name",
                    line.clone(),
                );
            }
            s.text(
                x,
                y + 20 + 15 * lines.len() as i32,
                (11, "middle", false),
                "tp-owner",
                fit(&names.owner(&t.data.owner), 26),
            );
            centre.insert(t.id, (x, y + lane_h - 28));
        }
    }
    for (x, y, st) in placed {
        for t in &st.data.touchpoint_ids {
            if let Some((tx, ty)) = centre.get(t) {
                s.lines.push(Line {
                    x1: x,
                    y1: y,
                    x2: *tx,
                    y2: *ty,
                    stroke: "#64748b",
                    width: 1,
                    dashed: true,
                    class: "bp-link".into(),
                    data: vec![("step", st.data.slug.to_string())],
                });
            }
        }
        s.rects.push(Rect {
            x: x - COL / 2 + 8,
            y,
            w: COL - 16,
            h: 54,
            fill: "#fef3c7",
            stroke: "#92400e",
            stroke_width: 1,
            class: "step".into(),
            data: vec![("slug", st.data.slug.to_string())],
            ..Default::default()
        });
        // Names wrap to two lines (about 20 characters of 12 px bold fill a box).
        let lines = wrap(&i.text(&st.data.name), 20, 2);
        let top = if lines.len() > 1 { y + 16 } else { y + 21 };
        for (k, line) in lines.iter().enumerate() {
            s.text(
                x,
                top + 14 * k as i32,
                (12, "middle", true),
                "step-name",
                line.clone(),
            );
        }
        s.text(
            x,
            top + 14 * lines.len() as i32 + 2,
            (11, "middle", false),
            "step-owner",
            fit(
                &st.data
                    .owner_unit_id
                    .and_then(|u| names.units.get(&u).cloned())
                    .unwrap_or_default(),
                26,
            ),
        );
    }
    s
}

/// A duration in seconds as a short text: minutes, hours or days.
pub fn duration(i: &I18n, secs: f64) -> String {
    let (key, n) = if secs < 3600.0 {
        ("mining-minutes", (secs / 60.0).round())
    } else if secs < 48.0 * 3600.0 {
        ("mining-hours", (secs / 3600.0 * 10.0).round() / 10.0)
    } else {
        ("mining-days", (secs / 86400.0 * 10.0).round() / 10.0)
    };
    i.decimals(i.s(key, "n", &n.to_string()))
}

/// The journey customers actually took, drawn over the designed one: a column per stage
/// with its touchpoints (how many encounters each had; required and optional marked),
/// a column for what happened outside the map, and the most frequent transitions
/// between them — width by count, the count and median time on the line, solid when
/// the design has the step (same or next stage), dashed orange when it does not;
/// transitions back to an earlier column run above the drawing. A touchpoint met twice
/// in a row shows "↻ n".
pub fn actual_flow(
    i: &I18n,
    (ws, title): (&str, &str),
    journey: &kohtaamo_app::mining::Journey,
    m: &kohtaamo_app::mining::JourneyMining,
) -> Svg {
    use std::collections::BTreeMap;
    const COL_W: i32 = 260;
    const BOX_W: i32 = 164;
    const BOX_H: i32 = 58;
    const ROW_H: i32 = 84;
    const LEFT: i32 = 16;
    const EDGES: usize = 30;
    const LABELLED: usize = 14;
    const OUTSIDE: usize = 8;
    // Encounters per activity: the instances starting there plus the transitions in.
    let mut visits: BTreeMap<&str, u64> = BTreeMap::new();
    for s in &m.starts {
        *visits.entry(s.activity.label.as_str()).or_default() += s.count;
    }
    for e in &m.edges {
        *visits.entry(e.to.label.as_str()).or_default() += e.count;
    }
    // Where each box is: designed touchpoints by stage, then the busiest off-map ones.
    let mut at: HashMap<String, (i32, i32)> = HashMap::new();
    let mut rows = vec![0i32; journey.stages.len()];
    let mut s = Svg {
        id: "actual-flow".into(),
        class: "diagram actual-flow",
        title: title.into(),
        ..Default::default()
    };
    let top = 84
        + 10 * m
            .edges
            .iter()
            .take(EDGES)
            .filter(|e| !e.designed)
            .count()
            .min(8) as i32;
    for (k, (_, name)) in journey.stages.iter().enumerate() {
        let x = LEFT + k as i32 * COL_W;
        s.text(x, 24, (13, "start", true), "stage-name", fit(name, 24));
        let reached = m.funnel.get(k).map_or(0, |f| f.reached);
        s.text(
            x,
            42,
            (11, "start", false),
            "stage-reached",
            i.s("mining-reached-n", "n", &reached.to_string()),
        );
    }
    for t in &journey.design.touchpoints {
        let (slug, name, _) = &journey.touchpoints[&t.id];
        let k = t.stage;
        let (x, y) = (LEFT + k as i32 * COL_W, top + rows[k] * ROW_H);
        rows[k] += 1;
        at.insert(slug.clone(), (x, y));
        let n = visits.get(slug.as_str()).copied().unwrap_or(0);
        s.rects.push(Rect {
            x,
            y,
            w: BOX_W,
            h: BOX_H,
            fill: if n > 0 { "#dbeafe" } else { "#ffffff" },
            stroke: "#1e3a8a",
            stroke_width: 1,
            dashed: n == 0,
            class: "tp-box".into(),
            data: vec![("touchpoint", slug.clone())],
            title: Some(name.clone()),
        });
        for (l, line) in wrap(name, 22, 2).into_iter().enumerate() {
            s.text(
                x + 7,
                y + 16 + 13 * l as i32,
                (11, "start", true),
                "tp-name",
                line,
            );
        }
        let mut sub = i.s("mining-encounters-n", "n", &n.to_string());
        if t.presence != Presence::Alternative {
            sub = format!("{sub} · {}", i.enum_label("presence", t.presence.as_str()));
        }
        s.text(
            x + 7,
            y + 49,
            (10, "start", false),
            "tp-count",
            fit(&sub, 22),
        );
        if let Some(e) = m
            .edges
            .iter()
            .find(|e| e.from.label == *slug && e.to.label == *slug)
        {
            s.text(
                x + BOX_W - 6,
                y + 49,
                (10, "end", true),
                "tp-rework",
                format!("↻ {}", e.count),
            );
        }
        s.links.push(Link {
            href: format!("/w/{ws}/dashboard/touchpoint/{}", t.id),
            x,
            y,
            w: BOX_W,
            h: BOX_H,
            title: name.clone(),
        });
    }
    let mut outside: Vec<(&str, u64, String)> = visits
        .iter()
        .filter(|(l, _)| !at.contains_key(**l))
        .map(|(l, n)| (*l, *n, String::new()))
        .collect();
    outside.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    outside.truncate(OUTSIDE);
    let ox = LEFT + journey.stages.len() as i32 * COL_W;
    if !outside.is_empty() {
        s.text(
            ox,
            24,
            (13, "start", true),
            "stage-name",
            i.t("mining-outside"),
        );
    }
    for (r, (label, n, _)) in outside.iter().enumerate() {
        let y = top + r as i32 * ROW_H;
        let name = m
            .edges
            .iter()
            .flat_map(|e| [&e.from, &e.to])
            .chain(m.starts.iter().map(|c| &c.activity))
            .find(|a| a.label == *label)
            .map_or_else(|| label.to_string(), |a| a.name.clone());
        at.insert(label.to_string(), (ox, y));
        s.rects.push(Rect {
            x: ox,
            y,
            w: BOX_W,
            h: BOX_H,
            fill: "#ffedd5",
            stroke: "#9a3412",
            stroke_width: 1,
            dashed: true,
            class: "outside-box".into(),
            data: vec![("activity", label.to_string())],
            title: Some(name.clone()),
        });
        for (l, line) in wrap(&name, 22, 2).into_iter().enumerate() {
            s.text(
                ox + 7,
                y + 16 + 13 * l as i32,
                (11, "start", true),
                "tp-name",
                line,
            );
        }
        s.text(
            ox + 7,
            y + 49,
            (10, "start", false),
            "tp-count",
            i.s("mining-encounters-n", "n", &n.to_string()),
        );
    }
    let drawn: Vec<&kohtaamo_app::mining::EdgeOut> = m
        .edges
        .iter()
        .filter(|e| e.from.label != e.to.label)
        .filter(|e| at.contains_key(&e.from.label) && at.contains_key(&e.to.label))
        .take(EDGES)
        .collect();
    let most = drawn.first().map_or(1, |e| e.count.max(1));
    let (mut lane, mut bracket) = (0, 0);
    // Labels placed so far, per gutter: (x, y); one too close to another is left to
    // the line's title.
    let mut placed: Vec<(i32, i32)> = vec![];
    for (k, e) in drawn.iter().enumerate() {
        let (ax, ay) = at[&e.from.label];
        let (bx, by) = at[&e.to.label];
        let (x1, y1) = (ax + BOX_W, ay + BOX_H / 2 + (k as i32 % 5 - 2) * 3);
        let (x2, y2) = (bx, by + BOX_H / 2 + (k as i32 % 5 - 2) * 3);
        let points = if bx > ax {
            format!("{x1},{y1} {},{y1} {},{y2} {x2},{y2}", x1 + 10, x2 - 10)
        } else if bx == ax {
            // Within a column: a bracket in the gutter on its right.
            bracket += 1;
            let out = x1 + 6 + (bracket % 6) * 4;
            format!("{x1},{y1} {out},{y1} {out},{y2} {x1},{y2}")
        } else {
            // Back to an earlier column: above the drawing.
            lane += 1;
            let up = 60 + (lane % 8) * 4;
            format!(
                "{x1},{y1} {},{y1} {},{up} {},{up} {},{y2} {x2},{y2}",
                x1 + 8,
                x1 + 8,
                x2 - 8,
                x2 - 8
            )
        };
        let width = 1 + (6.0 * e.count as f64 / most as f64).round() as i32;
        let time = duration(i, e.median_seconds);
        s.polylines.push(Polyline {
            points,
            stroke: if e.designed { "#1e40af" } else { "#c2410c" },
            width,
            dashed: !e.designed,
            class: if e.designed {
                "edge designed"
            } else {
                "edge undesigned"
            }
            .into(),
            title: Some(i.args(
                "mining-edge-title",
                &[
                    ("from", &e.from.name),
                    ("to", &e.to.name),
                    ("n", &e.count.to_string()),
                    ("median", &time),
                    ("p90", &duration(i, e.p90_seconds)),
                ],
            )),
        });
        let (mx, my) = ((x1 + x2) / 2, (y1 + y2) / 2 - 4);
        let free = placed
            .iter()
            .all(|(px, py)| (px - mx).abs() > 70 || (py - my).abs() > 13);
        if k < LABELLED && bx - ax == COL_W && free {
            placed.push((mx, my));
            s.text(
                mx,
                my,
                (10, "middle", false),
                "edge-label",
                format!("{} · {}", e.count, time),
            );
        }
    }
    let cols = journey.stages.len() as i32 + i32::from(!outside.is_empty());
    let max_rows = rows
        .iter()
        .copied()
        .chain([outside.len() as i32])
        .max()
        .unwrap_or(0)
        .max(1);
    s.width = LEFT * 2 + cols.max(1) * COL_W - (COL_W - BOX_W);
    s.height = top + max_rows * ROW_H;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A box of the tallest kind (two name lines, owner, IT mark) fits its ring at any
    /// angle: all four corners and its nearest edge between the ring's circles.
    #[test]
    fn every_box_fits_inside_its_ring_at_any_angle() {
        let (hw, hh) = (80.0, (14.0 + 16.0 * 4.0) / 2.0);
        for (inner, outer) in [(170.0, 360.0), (360.0, 550.0)] {
            for step in 0..360 {
                let a = (step as f64).to_radians();
                let r = inside_ring(a, (hw, hh), (inner, outer));
                let (cx, cy) = (r * a.cos(), r * a.sin());
                for (dx, dy) in [(-hw, -hh), (hw, -hh), (-hw, hh), (hw, hh)] {
                    let d = (cx + dx).hypot(cy + dy);
                    assert!(d <= outer - 4.0, "corner outside at {step}°: {d}");
                }
                let near = (cx.abs() - hw).max(0.0).hypot((cy.abs() - hh).max(0.0));
                assert!(
                    near >= inner + 4.0,
                    "box over the inner circle at {step}°: {near}"
                );
            }
        }
    }

    #[test]
    fn long_names_wrap_instead_of_being_cut() {
        assert_eq!(
            wrap("Auton ja kaluston kuljetus junassa", 20, 2),
            ["Auton ja kaluston", "kuljetus junassa"]
        );
        assert_eq!(wrap("Lyhyt", 20, 2), ["Lyhyt"]);
        let three = wrap("one two three four five six seven eight nine ten", 10, 2);
        assert_eq!(three.len(), 2);
        assert!(three[1].ends_with('…'));
    }
}
