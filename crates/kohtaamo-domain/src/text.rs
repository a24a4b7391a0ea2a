//! Names, slugs, languages and translated texts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Reason;

pub const MAX_NAME: usize = 200;
pub const MAX_TEXT: usize = 5000;

/// A language tag such as `fi`, `en`, `sv` or `pt-BR`. Any well-formed tag is accepted so
/// a new language needs no code change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Lang(String);

impl Lang {
    pub fn parse(s: &str) -> Result<Self, Reason> {
        let mut parts = s.split('-');
        let primary = parts.next().unwrap_or_default();
        let ok_primary =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
        let region = parts.next();
        let ok_region =
            region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()));
        if ok_primary && ok_region && parts.next().is_none() {
            Ok(Self(s.to_owned()))
        } else {
            Err(Reason::new("bad-language").with("value", s))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Lang {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Lang::parse(&s).map_err(|r| r.english())
    }
}
impl From<Lang> for String {
    fn from(l: Lang) -> String {
        l.0
    }
}

/// A stable, URL- and git-friendly identifier: lowercase letters, digits and single
/// hyphens, 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, Reason> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Reason::new("bad-slug"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Slug::parse(&s).map_err(|r| r.english())
    }
}
impl From<Slug> for String {
    fn from(l: Slug) -> String {
        l.0
    }
}
impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A single-language name that is not translated (a person's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PlainName(String);

impl PlainName {
    pub fn parse(s: &str) -> Result<Self, Reason> {
        let t = s.trim();
        if t.is_empty() {
            Err(Reason::new("empty"))
        } else if t.chars().count() > MAX_NAME {
            Err(Reason::new("too-long").with("max", MAX_NAME))
        } else {
            Ok(Self(t.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Texts of one field in several languages, e.g. `{"fi": "Asiakaspalvelu", "en":
/// "Customer service"}`. Ordered by language so exports are stable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = BTreeMap<String, String>, example = json!({"fi": "Asiakaspalvelu", "en": "Customer service"}))]
pub struct Texts(BTreeMap<Lang, String>);

impl Texts {
    /// A name: at least one language, every text non-empty and at most [`MAX_NAME`].
    pub fn name(raw: &BTreeMap<String, String>) -> Result<Self, Reason> {
        let t = Self::parse(raw, MAX_NAME)?;
        if t.0.is_empty() {
            return Err(Reason::new("name-needs-language"));
        }
        Ok(t)
    }
    /// A free text (description, needs …): may be empty, each text at most [`MAX_TEXT`].
    pub fn text(raw: &BTreeMap<String, String>) -> Result<Self, Reason> {
        Self::parse(raw, MAX_TEXT)
    }
    fn parse(raw: &BTreeMap<String, String>, max: usize) -> Result<Self, Reason> {
        let mut out = BTreeMap::new();
        for (k, v) in raw {
            let lang = Lang::parse(k)?;
            let v = v.trim();
            if v.is_empty() {
                return Err(Reason::new("empty-text").with("lang", k));
            }
            if v.chars().count() > max {
                return Err(Reason::new("text-too-long")
                    .with("lang", k)
                    .with("max", max));
            }
            out.insert(lang, v.to_owned());
        }
        Ok(Self(out))
    }
    pub fn single(lang: &str, text: &str) -> Self {
        let mut m = BTreeMap::new();
        if let Ok(l) = Lang::parse(lang) {
            m.insert(l, text.to_owned());
        }
        Self(m)
    }
    /// The text in `lang`, else in `fallback`, else any.
    pub fn get(&self, lang: &str, fallback: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(l, _)| l.as_str() == lang)
            .or_else(|| self.0.iter().find(|(l, _)| l.as_str() == fallback))
            .or_else(|| self.0.iter().next())
            .map(|(_, v)| v.as_str())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }
    /// Reads what [`Texts::to_json`] stored; stored data was validated on the way in.
    pub fn from_json(s: &str) -> Result<Self, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }
    pub fn raw(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(k, v)| (k.0.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn slugs() {
        assert!(Slug::parse("customer-service").is_ok());
        assert!(Slug::parse("it2").is_ok());
        for bad in ["", "Caps", "a--b", "-a", "a-", "ä", "a b", &"x".repeat(65)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn langs() {
        for ok in ["fi", "en", "sv", "smn", "pt-BR"] {
            assert!(Lang::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "FI", "english", "fi-fi", "f"] {
            assert!(Lang::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_need_one_language_and_no_blank_texts() {
        assert!(Texts::name(&m(&[])).is_err());
        assert!(Texts::name(&m(&[("fi", "  ")])).is_err());
        assert!(Texts::name(&m(&[("xx-yy", "a")])).is_err());
        let t = Texts::name(&m(&[
            ("fi", " Asiakaspalvelu "),
            ("en", "Customer service"),
        ]))
        .unwrap();
        assert_eq!(t.get("fi", "en"), Some("Asiakaspalvelu"));
        assert_eq!(t.get("sv", "en"), Some("Customer service"));
        assert!(Texts::text(&m(&[])).unwrap().is_empty());
    }

    #[test]
    fn texts_round_trip_json() {
        let t = Texts::name(&m(&[("fi", "\"<script>'; DROP TABLE x;-- 🚆")])).unwrap();
        assert_eq!(Texts::from_json(&t.to_json()).unwrap(), t);
    }
}
