//! Themes in open answers, locally: tokenise, drop stop words, stem (Snowball: Finnish,
//! English, Swedish), count terms and two-word phrases, and tell which are
//! over-represented among unhappy respondents compared with happy ones. The analyser
//! is a trait so a better one (lemmatiser, embeddings) can replace it.

use std::collections::{BTreeMap, BTreeSet};

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;

/// Turns one answer into the terms counted for it: each term's key (what is counted,
/// e.g. a stem) and its surface form in this answer (what people read).
pub trait Analyzer {
    fn terms(&self, text: &str, lang: &str) -> Vec<(String, String)>;
}

const STOP_FI: &[&str] = &[
    "ja", "on", "oli", "ei", "se", "että", "ole", "olla", "kun", "niin", "mutta", "tai", "kuin",
    "myös", "jo", "vain", "hyvin", "aika", "ihan", "tämä", "tuo", "siitä", "sen", "ne", "me",
    "meitä", "minä", "mä", "en", "olisi", "ollut", "kanssa", "jos", "koska", "vielä", "sitten",
    "eikä", "kerran", "mitä", "joka", "jossa", "sekä",
];
const STOP_EN: &[&str] = &[
    "the", "and", "was", "were", "are", "for", "with", "that", "this", "not", "but", "too", "very",
    "had", "has", "have", "our", "you", "your", "nobody", "did", "its", "it's", "they", "them",
    "from", "there", "about", "all", "out", "of", "to", "in", "on", "a", "an", "is", "it", "us",
    "we", "be", "been", "far", "once",
];
const STOP_SV: &[&str] = &[
    "och", "att", "det", "som", "var", "inte", "med", "för", "den", "har", "jag", "till",
];

/// Snowball stemming after lower-casing, splitting on anything but letters and digits,
/// and dropping stop words and one- and two-letter words. Emits each stem and each
/// pair of consecutive stems ("kahv kylm"), with the words as written ("kahvi kylmää").
pub struct SnowballAnalyzer;

impl Analyzer for SnowballAnalyzer {
    fn terms(&self, text: &str, lang: &str) -> Vec<(String, String)> {
        let (alg, stop) = match lang.split('-').next().unwrap_or_default() {
            "fi" => (Algorithm::Finnish, STOP_FI),
            "sv" => (Algorithm::Swedish, STOP_SV),
            _ => (Algorithm::English, STOP_EN),
        };
        let stemmer = Stemmer::create(alg);
        let lower = text.to_lowercase();
        let words: Vec<(String, String)> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 2 && !stop.contains(w))
            .map(|w| (stemmer.stem(w).into_owned(), w.to_owned()))
            .collect();
        let mut out = words.clone();
        out.extend(words.windows(2).map(|p| {
            (
                format!("{} {}", p[0].0, p[1].0),
                format!("{} {}", p[0].1, p[1].1),
            )
        }));
        out
    }
}

/// How the respondent felt, from the response's standard score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    Low,
    Middle,
    High,
}

/// NPS 0–6 / 9–10, else CSAT 1–2 / 4–5, else CES 1–3 / 5–7.
pub fn mood(nps: Option<i64>, csat: Option<i64>, ces: Option<i64>) -> Mood {
    let by = |v: i64, low: i64, high: i64| {
        if v <= low {
            Mood::Low
        } else if v >= high {
            Mood::High
        } else {
            Mood::Middle
        }
    };
    match (nps, csat, ces) {
        (Some(v), _, _) => by(v, 6, 9),
        (_, Some(v), _) => by(v, 2, 4),
        (_, _, Some(v)) => by(v, 3, 5),
        _ => Mood::Middle,
    }
}

/// One open answer to analyse.
pub struct OpenAnswer<'a> {
    pub text: &'a str,
    pub lang: &'a str,
    pub mood: Mood,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Theme {
    /// The stemmed term or two-word phrase (what is counted).
    pub term: String,
    /// How people wrote it: the term's most frequent surface form (ties: the shortest,
    /// then the first in order), e.g. "kahvi" for the stem "kahv".
    pub label: String,
    /// An answer in which it appears, as written (the shortest).
    pub example: String,
    /// Answers mentioning it.
    pub answers: i64,
    pub low: i64,
    pub high: i64,
    /// Share of unhappy answers mentioning it minus share of happy ones (−1 … 1).
    pub difference: f64,
    /// Significantly more common among the unhappy (two-proportion z-test, 95 %).
    pub over_represented_low: bool,
    /// Significantly more common among the happy.
    pub over_represented_high: bool,
}

/// Themes mentioned in at least `min_answers` answers, most mentioned first. Each answer
/// counts a term once.
pub fn themes(
    answers: &[OpenAnswer<'_>],
    analyzer: &dyn Analyzer,
    min_answers: i64,
    limit: usize,
) -> Vec<Theme> {
    let mut per: BTreeMap<String, (i64, i64, i64, String)> = BTreeMap::new();
    let mut surfaces: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let (mut n_low, mut n_high) = (0i64, 0i64);
    for a in answers {
        match a.mood {
            Mood::Low => n_low += 1,
            Mood::High => n_high += 1,
            Mood::Middle => {}
        }
        let found = analyzer.terms(a.text, a.lang);
        for (t, surface) in &found {
            *surfaces
                .entry(t.clone())
                .or_default()
                .entry(surface.clone())
                .or_default() += 1;
        }
        let terms: BTreeSet<String> = found.into_iter().map(|(t, _)| t).collect();
        for t in terms {
            let e = per.entry(t).or_insert((0, 0, 0, a.text.to_owned()));
            e.0 += 1;
            match a.mood {
                Mood::Low => e.1 += 1,
                Mood::High => e.2 += 1,
                Mood::Middle => {}
            }
            if a.text.len() < e.3.len() {
                e.3 = a.text.to_owned();
            }
        }
    }
    let mut out: Vec<Theme> = per
        .into_iter()
        .filter(|(_, v)| v.0 >= min_answers)
        .map(|(term, (n, low, high, example))| {
            let pl = if n_low > 0 {
                low as f64 / n_low as f64
            } else {
                0.0
            };
            let ph = if n_high > 0 {
                high as f64 / n_high as f64
            } else {
                0.0
            };
            let z = two_proportion_z(low, n_low, high, n_high);
            let label = surfaces
                .get(&term)
                .and_then(|m| {
                    m.iter()
                        .max_by(|a, b| {
                            a.1.cmp(b.1)
                                .then(b.0.len().cmp(&a.0.len()))
                                .then(b.0.cmp(a.0))
                        })
                        .map(|(w, _)| w.clone())
                })
                .unwrap_or_else(|| term.clone());
            Theme {
                label,
                term,
                example,
                answers: n,
                low,
                high,
                difference: pl - ph,
                over_represented_low: z > crate::analytics::Z95,
                over_represented_high: z < -crate::analytics::Z95,
            }
        })
        .collect();
    out.sort_by(|a, b| b.answers.cmp(&a.answers).then(a.term.cmp(&b.term)));
    out.truncate(limit);
    out
}

/// z of p₁ − p₂ with the pooled proportion; 0 when either group is empty.
fn two_proportion_z(x1: i64, n1: i64, x2: i64, n2: i64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 0.0;
    }
    let (n1, n2) = (n1 as f64, n2 as f64);
    let p = (x1 + x2) as f64 / (n1 + n2);
    let se = (p * (1.0 - p) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        return 0.0;
    }
    (x1 as f64 / n1 - x2 as f64 / n2) / se
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_theme_is_shown_as_people_wrote_it() {
        let texts = [
            "Kahvi oli kylmää",
            "Kahvi loppui",
            "kahvit loppuivat",
            "Lippu oli kallis",
            "Lipun osto oli vaikeaa",
            "lipun hinta",
        ];
        let answers: Vec<OpenAnswer> = texts
            .iter()
            .map(|t| OpenAnswer {
                text: t,
                lang: "fi",
                mood: Mood::Low,
            })
            .collect();
        let t = themes(&answers, &SnowballAnalyzer, 2, 50);
        let label = |stem: &str| t.iter().find(|x| x.term == stem).map(|x| x.label.clone());
        assert_eq!(label("kahv").as_deref(), Some("kahvi"), "{t:?}");
        assert_eq!(label("lipu").as_deref(), Some("lipun"), "{t:?}");
        assert!(t.iter().all(|x| !x.label.is_empty()));
    }

    #[test]
    fn finnish_and_english_stem_to_shared_terms() {
        let a = SnowballAnalyzer;
        let keys = |t: Vec<(String, String)>| t.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        let fi = keys(a.terms("Kahvi oli kylmää ja kahvit loppuivat", "fi"));
        assert!(
            fi.contains(&"kahv".to_string()) || fi.iter().any(|t| t.starts_with("kahv")),
            "{fi:?}"
        );
        assert!(
            !fi.contains(&"oli".to_string()) && !fi.contains(&"ja".to_string()),
            "stop words dropped: {fi:?}"
        );
        let en = keys(a.terms("The trains were late, the train is always late", "en"));
        assert!(
            en.contains(&"train".to_string()) && en.contains(&"late".to_string()),
            "{en:?}"
        );
        assert!(
            en.iter().any(|t| t == "train late"),
            "two-word phrases: {en:?}"
        );
    }

    #[test]
    fn over_representation_among_the_unhappy() {
        let mut answers = Vec::new();
        for _ in 0..40 {
            answers.push(OpenAnswer {
                text: "The coffee was cold",
                lang: "en",
                mood: Mood::Low,
            });
            answers.push(OpenAnswer {
                text: "Friendly staff",
                lang: "en",
                mood: Mood::High,
            });
        }
        for _ in 0..5 {
            answers.push(OpenAnswer {
                text: "Friendly staff but cold coffee",
                lang: "en",
                mood: Mood::High,
            });
        }
        let t = themes(&answers, &SnowballAnalyzer, 5, 50);
        let coffee = t
            .iter()
            .find(|x| x.term == "coffe")
            .expect("coffee stemmed");
        assert_eq!((coffee.answers, coffee.low, coffee.high), (45, 40, 5));
        assert!(coffee.over_represented_low && !coffee.over_represented_high);
        let staff = t.iter().find(|x| x.term == "staff").unwrap();
        assert!(staff.over_represented_high);
        assert_eq!(staff.example, "Friendly staff");
        // Each answer counts a term once.
        let once = themes(
            &[OpenAnswer {
                text: "late late late",
                lang: "en",
                mood: Mood::Low,
            }],
            &SnowballAnalyzer,
            1,
            10,
        );
        assert_eq!(once.iter().find(|x| x.term == "late").unwrap().answers, 1);
    }

    #[test]
    fn moods() {
        assert_eq!(mood(Some(6), None, None), Mood::Low);
        assert_eq!(mood(Some(9), Some(1), None), Mood::High);
        assert_eq!(mood(None, Some(3), None), Mood::Middle);
        assert_eq!(mood(None, None, Some(6)), Mood::High);
        assert_eq!(mood(None, None, None), Mood::Middle);
    }
}
