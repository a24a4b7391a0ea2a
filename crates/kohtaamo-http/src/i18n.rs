//! Language at the edge: which language a request is served in (the user's choice
//! from the `lang` cookie or a link, then the browser's `Accept-Language`, then the
//! workspace default). The messages and formatting themselves are
//! `kohtaamo_app::i18n` (the jobs and the CLI write text too).

use axum::http::{header, HeaderMap};
pub use kohtaamo_app::i18n::{languages, negotiate, I18n};

use crate::auth::cookie_value;

/// The cookie holding the language a person chose.
pub const LANG_COOKIE: &str = "kohtaamo_lang";

/// The language of a staff request: the chosen one, else the browser's, else the
/// workspace default.
pub fn language_for(headers: &HeaderMap, workspace_default: Option<&str>) -> String {
    negotiate(
        cookie_value(headers, LANG_COOKIE).as_deref(),
        accept_language(headers),
        workspace_default,
    )
}

/// The respondent's language: `lang` in the link, then the browser's, then the
/// workspace default (None before the survey is known).
pub fn respondent_language(lang: Option<&str>, headers: &HeaderMap, default: Option<&str>) -> I18n {
    let l = negotiate(lang, accept_language(headers), default);
    I18n::new(&l, default.unwrap_or(&l))
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use kohtaamo_app::i18n::unknown_keys;

    /// Every key a template or page asks for exists.
    #[test]
    fn every_used_key_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut sources = vec![];
        for sub in ["templates", "src/ui", "src/api", "src"] {
            for entry in std::fs::read_dir(format!("{dir}{sub}")).unwrap() {
                if let Ok(text) = std::fs::read_to_string(entry.unwrap().path()) {
                    sources.push(text);
                }
            }
        }
        let missing = unknown_keys(&sources);
        assert!(missing.is_empty(), "keys used but not defined: {missing:?}");
    }
}

#[cfg(test)]
mod template_lint {
    /// Removes template tags and expressions, then markup, leaving only literal text.
    fn literal_text(src: &str) -> String {
        let mut s = src.to_owned();
        for (open, close) in [("{#", "#}"), ("{%", "%}"), ("{{", "}}"), ("<!--", "-->")] {
            while let Some(a) = s.find(open) {
                let Some(b) = s[a..].find(close) else { break };
                s.replace_range(a..a + b + close.len(), " ");
            }
        }
        // Attributes a person reads must not hold literal words either.
        let mut out = String::new();
        let mut rest = s.as_str();
        while let Some(a) = rest.find('<') {
            out.push_str(&rest[..a]);
            let Some(b) = rest[a..].find('>') else { break };
            let tag = &rest[a..a + b];
            for attr in ["aria-label=\"", "title=\"", "alt=\"", "placeholder=\""] {
                if let Some(p) = tag.find(attr) {
                    let v = &tag[p + attr.len()..];
                    out.push(' ');
                    out.push_str(v.split('"').next().unwrap_or_default());
                }
            }
            rest = &rest[a + b + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn templates_have_no_literal_words() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut offenders = vec![];
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = literal_text(&std::fs::read_to_string(&path).unwrap());
            // Punctuation such as "·" or ":" between expressions is fine; letters are not.
            let words: Vec<&str> = text
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphabetic))
                .collect();
            if !words.is_empty() {
                offenders.push(format!("{}: {:?}", path.display(), words));
            }
        }
        assert!(
            offenders.is_empty(),
            "user-visible text outside the localisation layer:\n{}",
            offenders.join("\n")
        );
    }

    #[test]
    fn the_lint_catches_literal_text() {
        assert!(literal_text("<p>{{ i.t(\"x\") }}</p>").trim().is_empty());
        assert!(literal_text("<p>Hello {{ name }}</p>").contains("Hello"));
        assert!(literal_text("<a aria-label=\"Close\" href=\"/\">{{ x }}</a>").contains("Close"));
        assert!(literal_text("<!doctype html><html lang=\"{{ i.lang }}\">")
            .trim()
            .is_empty());
    }
}
