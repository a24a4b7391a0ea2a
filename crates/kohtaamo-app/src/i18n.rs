//! Localisation: Fluent message files per language under `locales/<lang>/main.ftl`
//! (adding Swedish is adding `locales/sv/main.ftl`), language negotiation, and
//! language-aware formatting of model texts and dates.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::NaiveDate;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{static_loader, Loader};
use kohtaamo_domain::text::Texts;
use unic_langid::LanguageIdentifier;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they end up in SVG and titles.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// Languages that have a message file, sorted.
pub fn languages() -> Vec<String> {
    let mut v: Vec<String> = LOCALES.locales().map(|l| l.to_string()).collect();
    v.sort();
    v
}

/// Picks the language: the user's choice, then `Accept-Language` (by q-value), then
/// the workspace default, then English — the first one we have messages for.
pub fn negotiate(
    choice: Option<&str>,
    accept_language: Option<&str>,
    workspace_default: Option<&str>,
) -> String {
    let have = languages();
    let ok = |l: &str| {
        let primary = l
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        have.iter().find(|h| **h == primary).cloned()
    };
    if let Some(l) = choice.and_then(ok) {
        return l;
    }
    if let Some(header) = accept_language {
        let mut prefs: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.trim().split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        prefs.sort_by(|a, b| b.0.total_cmp(&a.0));
        if let Some(l) = prefs.into_iter().find_map(|(_, t)| ok(t)) {
            return l;
        }
    }
    workspace_default
        .and_then(ok)
        .unwrap_or_else(|| "en".into())
}

/// Messages and formatting in one language. Templates call `i.t("key")`.
#[derive(Debug, Clone)]
pub struct I18n {
    pub lang: String,
    id: LanguageIdentifier,
    /// The workspace's default language, the fallback for model texts.
    pub fallback: String,
}

impl I18n {
    pub fn new(lang: &str, fallback: &str) -> Self {
        let id = lang.parse().unwrap_or_else(|_| unic_langid::langid!("en"));
        Self {
            lang: lang.to_owned(),
            id,
            fallback: fallback.to_owned(),
        }
    }

    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(&self.id, key)
    }

    /// A message with one numeric argument (plural rules apply).
    pub fn n(&self, key: &str, arg: &str, value: impl std::borrow::Borrow<i64>) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        args.insert(
            Cow::Owned(arg.to_owned()),
            FluentValue::from(*value.borrow()),
        );
        LOCALES.lookup_with_args(&self.id, key, &args)
    }

    /// A message with one text argument.
    pub fn s(&self, key: &str, arg: &str, value: &str) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        args.insert(
            Cow::Owned(arg.to_owned()),
            FluentValue::from(value.to_owned()),
        );
        LOCALES.lookup_with_args(&self.id, key, &args)
    }

    /// A message with several text arguments.
    pub fn args(&self, key: &str, args: &[(&str, &str)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| {
                (
                    Cow::Owned((*k).to_owned()),
                    FluentValue::from((*v).to_owned()),
                )
            })
            .collect();
        LOCALES.lookup_with_args(&self.id, key, &map)
    }

    /// Every field's reason in this language, one sentence after another.
    pub fn reasons(&self, f: &kohtaamo_domain::FieldErrors) -> String {
        f.0.values()
            .map(|r| self.reason(r))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A validation reason in this language: the message `err-<code>` with the reason's
    /// arguments; free-text reasons (import-only) are shown as they are.
    pub fn reason(&self, r: &kohtaamo_domain::Reason) -> String {
        if r.code == "text" {
            return r.arg("text").to_owned();
        }
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        for (k, v) in &r.args {
            let noun_key = format!("noun-{v}");
            // Nouns (unit, partner, …) are translated too.
            let value = if *k == "noun" {
                LOCALES
                    .try_lookup(&self.id, &noun_key)
                    .unwrap_or_else(|| v.clone())
            } else {
                v.clone()
            };
            args.insert(Cow::Borrowed(*k), FluentValue::from(value));
        }
        LOCALES.lookup_with_args(&self.id, &format!("err-{}", r.code), &args)
    }

    /// A model text in this language, else the workspace default, else any.
    pub fn text(&self, t: &Texts) -> String {
        t.get(&self.lang, &self.fallback)
            .unwrap_or_default()
            .to_owned()
    }

    pub fn date(&self, d: &NaiveDate) -> String {
        match self.lang.as_str() {
            "fi" => d.format("%-d.%-m.%Y").to_string(),
            "sv" => d.format("%Y-%m-%d").to_string(),
            _ => d.format("%-d %b %Y").to_string(),
        }
    }

    /// A stored moment (RFC 3339) as "date HH:MM" in this language's date format, UTC;
    /// the text as it is if it is not a moment.
    pub fn time(&self, rfc3339: &str) -> String {
        match chrono::DateTime::parse_from_rfc3339(rfc3339) {
            Ok(t) => format!("{} {}", self.date(&t.date_naive()), t.format("%H:%M")),
            Err(_) => rfc3339.to_owned(),
        }
    }

    /// A calendar month, as this language writes it short: 3/2026, Mar 2026.
    pub fn month(&self, d: &NaiveDate) -> String {
        match self.lang.as_str() {
            "fi" => d.format("%-m/%Y").to_string(),
            "sv" => d.format("%Y-%m").to_string(),
            _ => d.format("%b %Y").to_string(),
        }
    }

    /// A period of days: "1.3.2026 – 29.5.2026".
    pub fn period(&self, from: &NaiveDate, to: &NaiveDate) -> String {
        format!("{} – {}", self.date(from), self.date(to))
    }

    pub fn opt_date(&self, d: &Option<NaiveDate>) -> String {
        d.as_ref()
            .map(|d| self.date(d))
            .unwrap_or_else(|| self.t("never"))
    }

    /// Figures written with a decimal point, as this language writes them (Finnish and
    /// Swedish use a comma).
    pub fn decimals(&self, text: String) -> String {
        if matches!(self.lang.as_str(), "fi" | "sv") {
            text.replace('.', ",")
        } else {
            text
        }
    }

    /// The label of an enumeration value, e.g. `lane-frontstage`.
    /// A value without a label of its own (a channel a respondent's link named, say
    /// `qr`) is shown as it is, never as a missing-key message.
    pub fn enum_label(&self, prefix: &str, value: &str) -> String {
        LOCALES
            .try_lookup(&self.id, &format!("{prefix}-{}", value.replace('_', "-")))
            .unwrap_or_else(|| value.to_owned())
    }
}

/// The message keys of `lang`'s file (for tests of this crate and of the HTTP crate).
#[doc(hidden)]
pub fn message_keys(lang: &str) -> std::collections::BTreeSet<String> {
    let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect()
}

/// Keys asked for with `.t("…")`, `.n("…"` or `.s("…"` in `sources` that the English
/// file lacks (for tests of this crate and of the HTTP crate).
#[doc(hidden)]
pub fn unknown_keys(sources: &[String]) -> Vec<String> {
    let en = message_keys("en");
    let mut missing = vec![];
    for src in sources {
        for cap in src
            .split(".t(\"")
            .skip(1)
            .chain(src.split(".n(\"").skip(1))
            .chain(src.split(".s(\"").skip(1))
        {
            let key = cap.split('"').next().unwrap_or_default();
            if !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !en.contains(key)
            {
                missing.push(key.to_string());
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The glossary (PRODUCT.md): a customer journey is *asiakasmatka*, never
    /// *asiakaspolku*.
    #[test]
    fn finnish_uses_the_glossary_word_for_a_journey() {
        let path = format!("{}/locales/fi/main.ftl", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap().to_lowercase();
        // Every inflection: asiakaspolku, -polun, -polkua, -poluilla …
        assert!(
            !text.contains("asiakaspol"),
            "asiakaspolku in the Finnish messages"
        );
        assert!(text.contains("asiakasmatka"));
    }

    #[test]
    fn a_value_without_a_label_is_shown_as_it_is() {
        let fi = I18n::new("fi", "fi");
        assert_eq!(fi.enum_label("channel", "web"), fi.t("channel-web"));
        assert_ne!(fi.enum_label("channel", "web"), "web");
        // Before: `Unknown localization key: "channel-qr"` on the dashboard; the
        // channels the product's own links send now have labels.
        assert_eq!(fi.enum_label("channel", "qr"), "QR-koodi");
        assert_eq!(fi.enum_label("channel", "kiosk-3"), "kiosk-3");
    }

    #[test]
    fn negotiation_order() {
        assert_eq!(negotiate(Some("fi"), Some("en"), Some("en")), "fi");
        assert_eq!(
            negotiate(None, Some("de, fi-FI;q=0.8, en;q=0.5"), Some("en")),
            "fi"
        );
        assert_eq!(negotiate(None, Some("de"), Some("fi")), "fi");
        assert_eq!(negotiate(Some("xx"), None, None), "en");
    }

    #[test]
    fn plurals_and_dates() {
        let fi = I18n::new("fi", "fi");
        let en = I18n::new("en", "fi");
        assert_eq!(en.n("touchpoint-count", "count", 1), "1 touchpoint");
        assert_eq!(en.n("touchpoint-count", "count", 3), "3 touchpoints");
        assert_eq!(fi.n("touchpoint-count", "count", 1), "1 kosketuspiste");
        assert_eq!(fi.n("touchpoint-count", "count", 3), "3 kosketuspistettä");
        let d = NaiveDate::from_ymd_opt(2026, 3, 7).unwrap();
        assert_eq!(fi.date(&d), "7.3.2026");
        assert_eq!(en.date(&d), "7 Mar 2026");
    }

    fn keys(lang: &str) -> std::collections::BTreeSet<String> {
        message_keys(lang)
    }

    /// Every language has every message (a missing key would silently fall back).
    #[test]
    fn every_language_has_every_key() {
        let en = keys("en");
        assert!(en.len() > 50);
        for lang in languages() {
            let other = keys(&lang);
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang}: missing {missing:?}, extra {extra:?}"
            );
        }
    }

    /// No message is defined twice (Fluent refuses the whole file, and every page
    /// would fail, at the first use).
    #[test]
    fn no_key_is_defined_twice() {
        for lang in languages() {
            let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).unwrap();
            let mut seen = std::collections::BTreeSet::new();
            let twice: Vec<&str> = text
                .lines()
                .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
                .filter(|k| !seen.insert(*k))
                .collect();
            assert!(twice.is_empty(), "{lang}: defined twice: {twice:?}");
        }
    }

    /// Every key the application layer asks for (reports, public survey texts, names)
    /// exists. The HTTP crate checks its templates and pages the same way.
    #[test]
    fn every_used_key_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        // This file only shows the call in its docs (`i.t("key")`).
        let sources: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !p.ends_with("i18n.rs"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        let missing = unknown_keys(&sources);
        assert!(missing.is_empty(), "keys used but not defined: {missing:?}");
    }

    /// Labels of enumeration values are looked up by building the key; each must exist.
    #[test]
    fn every_enum_value_has_a_label() {
        use kohtaamo_domain::model::*;
        let mut wanted: Vec<(&str, &str)> = vec![];
        wanted.extend(Lane::ALL.iter().map(|v| ("lane", v.as_str())));
        wanted.extend(BuiltinChannel::ALL.iter().map(|v| ("channel", v.as_str())));
        wanted.extend(ElementRole::ALL.iter().map(|v| ("role", v.as_str())));
        wanted.extend(ElementKind::ALL.iter().map(|v| ("kind", v.as_str())));
        wanted.extend(Role::ALL.iter().map(|v| ("role", v.as_str())));
        wanted.extend(InterfaceKind::ALL.iter().map(|v| ("interface", v.as_str())));
        use kohtaamo_domain::survey::{QuestionKind, SurveyStatus};
        wanted.extend(
            SurveyStatus::ALL
                .iter()
                .map(|v| ("survey-status", v.as_str())),
        );
        wanted.extend(SurveyStatus::ALL.iter().map(|v| ("survey-set", v.as_str())));
        wanted.extend(
            QuestionKind::ALL
                .iter()
                .map(|v| ("question-kind", v.as_str())),
        );
        for s in kohtaamo_domain::analytics::Scope::ALL {
            wanted.push(("scope", s.as_str()));
        }
        for k in ["nps", "csat", "ces"] {
            wanted.push(("survey-template", k));
            wanted.push(("survey-std", k));
            wanted.push(("survey-low", k));
            wanted.push(("survey-high", k));
        }
        let en = keys("en");
        for (prefix, v) in wanted {
            let key = format!("{prefix}-{}", v.replace('_', "-"));
            assert!(en.contains(&key), "no message {key}");
        }
        for l in languages() {
            assert!(
                en.contains(&format!("lang-name-{l}")),
                "no language name for {l}"
            );
        }
    }
}
