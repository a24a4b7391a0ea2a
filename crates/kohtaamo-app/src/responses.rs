//! Responses as the staff read them: themes in the open answers, and the rows of a
//! response export (header and one row per response, fetched a page at a time so an
//! export of millions of responses holds one page in memory; the CSV and Excel writers
//! stay at the edge).

use std::collections::HashMap;

use kohtaamo_domain::survey::SurveyData;
use kohtaamo_domain::Id;
use kohtaamo_storage::feedback::{Response as Answered, ResponseFilter};
use kohtaamo_storage::{Record, Store};

use crate::directory::Names;
use crate::i18n::I18n;
use crate::Result;

/// Rows per database page when exporting or reading answers for themes.
pub const EXPORT_PAGE: i64 = 2000;

/// At most this many recent answers are analysed for themes.
const THEME_ANSWERS: usize = 20_000;

/// Whose words themes are read from: respondents' open answers, staff's frontline
/// captures at the survey's touchpoints, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WordsOf {
    #[default]
    Respondents,
    Staff,
    Both,
}

impl WordsOf {
    pub const ALL: [WordsOf; 3] = [WordsOf::Respondents, WordsOf::Staff, WordsOf::Both];

    pub fn as_str(self) -> &'static str {
        match self {
            WordsOf::Respondents => "respondents",
            WordsOf::Staff => "staff",
            WordsOf::Both => "both",
        }
    }

    pub fn parse(s: &str) -> std::result::Result<Self, kohtaamo_domain::Reason> {
        Self::ALL
            .into_iter()
            .find(|w| w.as_str() == s.trim())
            .ok_or_else(|| {
                kohtaamo_domain::Reason::new("not-one-of")
                    .with("value", s)
                    .with("options", "respondents, staff, both")
            })
    }
}

/// Themes of a survey's complete open answers matching `f` and/or of the frontline
/// captures recorded at its touchpoints (its own, its journey's, or any for a survey
/// about a package; narrowed by `f`'s touchpoint and period — the other filters are
/// about answers and leave captures out).
/// One response of a survey, read by `reader`: when it names its customer or case it is
/// a read of a person's record, in the audit trail (`record.read`, detail `response`,
/// under a keyed hash).
pub async fn read(
    store: &Store,
    ws: Id,
    (survey, id): (Id, Id),
    reader: &kohtaamo_storage::privacy::Actor,
) -> Result<Answered> {
    let r = store.response(ws, survey, id).await?;
    let whose = match (&r.customer_ref, &r.case_ref) {
        (Some(c), _) => Some(format!("ref {c}")),
        (None, Some(c)) => Some(format!("case {c}")),
        (None, None) => None,
    };
    if let Some(what) = whose {
        crate::privacy::audit_read(store, ws, reader, &what, "response").await?;
    }
    Ok(r)
}

pub async fn survey_themes(
    store: &Store,
    ws: Id,
    survey: &SurveyData,
    id: Id,
    f: &ResponseFilter,
    words: WordsOf,
) -> Result<Vec<kohtaamo_domain::themes::Theme>> {
    use kohtaamo_domain::themes::{mood, themes, Mood, OpenAnswer, SnowballAnalyzer};
    // Like every figure, themes leave out what a bot check set apart unless asked.
    let f = ResponseFilter {
        complete: Some(true),
        suspect: f.suspect.or(Some(false)),
        ..f.clone()
    };
    let mut texts: Vec<(String, String, kohtaamo_domain::themes::Mood)> = Vec::new();
    let mut after = 0;
    while words != WordsOf::Staff && texts.len() < THEME_ANSWERS {
        let page = store
            .responses_after(ws, id, &f, after, EXPORT_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in &page {
            let t = r.answers.text(survey);
            if !t.is_empty() {
                texts.push((
                    t,
                    r.locale.clone().unwrap_or_default(),
                    mood(r.nps, r.csat, r.ces),
                ));
            }
        }
    }
    if words != WordsOf::Respondents {
        let narrow = f.touchpoint_id.or(survey.touchpoint_id);
        let captures = store
            .encounters(
                ws,
                &kohtaamo_storage::encounters::EncounterFilter {
                    touchpoint_id: narrow,
                    journey_id: survey.journey_id.filter(|_| narrow.is_none()),
                    from: f.from.map(|d| d.to_string()),
                    to: f.to.and_then(|d| d.succ_opt()).map(|d| d.to_string()),
                    captures_only: true,
                    limit: THEME_ANSWERS as i64,
                    ..Default::default()
                },
            )
            .await?;
        for e in captures {
            let (Some(text), Some(c)) = (e.text, e.capture) else {
                continue;
            };
            let feeling = match c.feeling {
                i64::MIN..=-1 => Mood::Low,
                0 => Mood::Middle,
                _ => Mood::High,
            };
            texts.push((text, String::new(), feeling));
        }
    }
    let answers: Vec<OpenAnswer> = texts
        .iter()
        .map(|(t, l, m)| OpenAnswer {
            text: t,
            lang: l,
            mood: *m,
        })
        .collect();
    Ok(themes(&answers, &SnowballAnalyzer, 5, 30))
}

/// The export's header and one row per response, as text.
pub struct Table {
    questions: Vec<String>,
    touchpoints: HashMap<Id, String>,
}

impl Table {
    /// The columns of survey `s`, with touchpoint names in `i`'s language.
    pub async fn new(store: &Store, ws: Id, s: &SurveyData, i: &I18n) -> Result<Self> {
        let names = Names::new(&store.snapshot(ws).await?, i);
        Ok(Self {
            questions: s.questions.iter().map(|q| q.key.to_string()).collect(),
            touchpoints: names.touchpoints,
        })
    }

    pub fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = [
            "response_id",
            "created_at",
            "updated_at",
            "complete",
            "suspect",
            "touchpoint_id",
            "touchpoint",
            "channel",
            "locale",
            "customer_ref",
            "case_ref",
            "nps",
            "csat",
            "ces",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        h.extend(self.questions.iter().map(|q| format!("q_{q}")));
        h.push("custom".into());
        h
    }
    pub fn row(&self, r: &Answered) -> Vec<String> {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
        let mut row = vec![
            r.response_key.clone(),
            r.created_at.clone(),
            r.updated_at.clone(),
            r.complete.to_string(),
            r.suspect.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            n(r.touchpoint_id),
            r.touchpoint_id
                .and_then(|t| self.touchpoints.get(&t).cloned())
                .unwrap_or_default(),
            o(&r.channel),
            o(&r.locale),
            o(&r.customer_ref),
            o(&r.case_ref),
            n(r.nps),
            n(r.csat),
            n(r.ces),
        ];
        for q in &self.questions {
            row.push(r.answers.0.get(q).map(|a| a.display()).unwrap_or_default());
        }
        row.push(
            r.custom
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        );
        row
    }
}

/// A response export as a stream of rows: the header, then a page of rows at a time.
pub struct Export {
    pub survey: Record<SurveyData>,
    pub table: Table,
    store: Store,
    ws: Id,
    filter: ResponseFilter,
    after: Id,
}

impl Export {
    /// The responses of survey `survey` matching `filter` (404 for an unknown survey),
    /// with touchpoint names in `i`'s language, exported by `reader` as `format`: a
    /// bulk read of people's answers, in the audit trail as `data.export` (the survey
    /// and the format; no person is named).
    pub async fn open(
        store: &Store,
        ws: Id,
        survey: Id,
        filter: ResponseFilter,
        i: &I18n,
        (reader, format): (&kohtaamo_storage::privacy::Actor, &str),
    ) -> Result<Self> {
        let rec = store.get::<SurveyData>(ws, survey).await?;
        store
            .audit(
                ws,
                reader,
                "data.export",
                &format!("survey {survey}"),
                &format!("responses as {format}"),
            )
            .await?;
        let table = Table::new(store, ws, &rec.data, i).await?;
        Ok(Self {
            survey: rec,
            table,
            store: store.clone(),
            ws,
            filter,
            after: 0,
        })
    }

    pub fn header(&self) -> Vec<String> {
        self.table.header()
    }

    /// The next page of rows, oldest first; `None` when every response was given.
    pub async fn next_rows(&mut self) -> Result<Option<Vec<Vec<String>>>> {
        let page = self
            .store
            .responses_after(
                self.ws,
                self.survey.id,
                &self.filter,
                self.after,
                EXPORT_PAGE,
            )
            .await?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = last.id;
        Ok(Some(page.iter().map(|r| self.table.row(r)).collect()))
    }
}
