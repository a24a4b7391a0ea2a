//! Where respondents answer: the public address, a survey's public link (optionally naming the touchpoint),
//! the widget snippet, and single-use personal invitations (only the token's hash is
//! stored; the link is shown once).

use kohtaamo_domain::{FieldErrors, Id, Reason};
use kohtaamo_storage::Store;

use crate::feedback::token_hash;
use crate::{Error, Result};

/// The address respondents reach: the configured public URL, else the host the staff
/// member's request came to (`localhost` when it named none).
pub fn public_base(configured: Option<&str>, request_host: Option<&str>) -> String {
    if let Some(u) = configured {
        return u.trim_end_matches('/').to_owned();
    }
    format!("http://{}", request_host.unwrap_or("localhost"))
}

/// The public link of a survey, optionally with a touchpoint in it.
pub fn survey_url(base: &str, key: &str, touchpoint: Option<Id>) -> String {
    match touchpoint {
        Some(t) => format!("{base}/f/{key}?tp={t}"),
        None => format!("{base}/f/{key}"),
    }
}

pub fn widget_snippet(base: &str, key: &str, touchpoint: Option<Id>) -> String {
    let tp = touchpoint
        .map(|t| format!(" data-touchpoint=\"{t}\""))
        .unwrap_or_default();
    format!("<script src=\"{base}/widget.js\" data-survey=\"{key}\"{tp} async></script>")
}

/// A fresh personal-invitation token (144 random bits, hex).
pub fn new_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// An invitation as handed out once: its id, token and link.
pub struct Issued {
    pub id: Id,
    pub token: String,
    pub url: String,
}

/// Issues single-use personal invitations for `survey`: each recipient (field path,
/// hidden fields) is validated — every problem is reported under its path and nothing
/// is stored — then only the tokens' hashes are stored. The tokens and links are
/// returned to be shown once, with links under `base` (the public address).
pub async fn issue_invitations(
    store: &Store,
    ws: Id,
    survey: Id,
    survey_touchpoint: Option<Id>,
    base: &str,
    recipients: Vec<(String, kohtaamo_domain::survey::HiddenInput)>,
) -> Result<Vec<Issued>> {
    let key = store.survey_key(ws, survey).await?;
    let mut e = FieldErrors::new();
    let mut items = Vec::new();
    let mut tokens = Vec::new();
    for (path, hidden) in recipients {
        let h = match hidden.parse() {
            Ok(h) => h,
            Err(fe) => {
                e.nest(&path, fe);
                continue;
            }
        };
        if let Some(t) = h.touchpoint_id {
            if !store.touchpoint_exists(ws, t).await? {
                e.add(
                    format!("{path}.touchpoint_id"),
                    Reason::new("unknown-ref")
                        .with("noun", "touchpoint")
                        .with("id", t),
                );
                continue;
            }
        }
        let tp = h.touchpoint_id.or(survey_touchpoint);
        let token = new_token();
        items.push((token_hash(&token), tp, h.customer_ref, h.case_ref));
        tokens.push((token, tp));
    }
    if !e.is_empty() {
        return Err(Error::Invalid(e));
    }
    let ids = store.create_invitations(ws, survey, &items).await?;
    Ok(ids
        .into_iter()
        .zip(tokens)
        .map(|(id, (token, tp))| {
            let url = survey_url(base, &key, tp);
            let sep = if url.contains('?') { '&' } else { '?' };
            Issued {
                id,
                url: format!("{url}{sep}inv={token}"),
                token,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_address_wins_over_the_request_host() {
        assert_eq!(
            public_base(Some("https://palaute.example.fi/"), Some("evil.example")),
            "https://palaute.example.fi"
        );
        assert_eq!(
            public_base(None, Some("kohtaamo.local:8080")),
            "http://kohtaamo.local:8080"
        );
        assert_eq!(public_base(None, None), "http://localhost");
        assert_eq!(
            survey_url("http://h", "k3y", Some(12)),
            "http://h/f/k3y?tp=12"
        );
        assert_eq!(survey_url("http://h", "k3y", None), "http://h/f/k3y");
    }
}
