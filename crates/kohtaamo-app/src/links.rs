//! Where respondents answer: the public address, a survey's public link (optionally naming the touchpoint),
//! the widget snippet, and single-use personal invitations (only the token's hash is
//! stored; the link is shown once).

use kohtaamo_domain::{FieldErrors, Id};
use kohtaamo_storage::Store;

use crate::feedback::token_hash;
use crate::{Error, Result};

/// The address respondents reach: the configured public URL; without one, the host the
/// staff member's request came to **only when it is a well-formed loopback host**
/// (`localhost`, `127.0.0.1`, `[::1]`, with an optional port: a local demo). Any other
/// `Host` header is chosen by whoever sends the request, so links, QR codes, the widget
/// snippet and invitations would point wherever they like; those requests get
/// `http://localhost` and the pages say to set `KOHTAAMO_PUBLIC_URL`.
pub fn public_base(configured: Option<&str>, request_host: Option<&str>) -> String {
    if let Some(u) = configured {
        return u.trim_end_matches('/').to_owned();
    }
    match request_host.filter(|h| is_loopback_host(h)) {
        Some(h) => format!("http://{h}"),
        None => "http://localhost".to_owned(),
    }
}

/// Whether respondent links built on `base` (from [`public_base`]) only open on this
/// computer: a loopback host.
pub fn is_local_base(base: &str) -> bool {
    reqwest::Url::parse(base)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_owned();
            Some(match u.port() {
                Some(p) => is_loopback_host(&format!("{host}:{p}")),
                None => is_loopback_host(&host),
            })
        })
        .unwrap_or(false)
}

/// Whether `host` (a `Host` header: name or IP literal, optional `:port`) is a
/// well-formed loopback address. Anything longer than a DNS name, with a path, user
/// info or stray characters is not.
pub fn is_loopback_host(host: &str) -> bool {
    if host.len() > 260 {
        return false;
    }
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip, tail)) => (
                ip,
                tail.strip_prefix(':')
                    .or(if tail.is_empty() { Some("") } else { None }),
            ),
            None => return false,
        },
        None => match host.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, Some("")),
        },
    };
    let port_ok = match port {
        Some("") => !host.ends_with(':'),
        Some(p) => p.len() <= 5 && p.parse::<u16>().is_ok_and(|n| n > 0),
        None => false,
    };
    if !port_ok {
        return false;
    }
    if let Ok(ip) = name.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Checks a configured public URL: `http` or `https`, a host, no user info, query or
/// fragment. Returns it without a trailing slash, or why it is refused.
pub fn parse_public_url(url: &str) -> std::result::Result<String, String> {
    if url.len() > 1000 {
        return Err("longer than 1,000 characters (links must fit in a QR code)".into());
    }
    let u = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("{url:?}: the scheme must be http or https"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host"));
    }
    if !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return Err(format!("{url:?}: no user, query or fragment allowed"));
    }
    Ok(url.trim_end_matches('/').to_owned())
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
    data: &kohtaamo_domain::survey::SurveyData,
    base: &str,
    recipients: Vec<(String, kohtaamo_domain::survey::HiddenInput)>,
) -> Result<Vec<Issued>> {
    let key = store.survey_key(ws, survey).await?;
    let asked = crate::feedback::asked_at(store, ws, data).await?;
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
            // Only a touchpoint the survey is asked at: the answer would be refused.
            let refusal = crate::feedback::touchpoint_refusal(store, ws, &asked, t).await?;
            if let Some(r) = refusal {
                e.add(format!("{path}.touchpoint_id"), r);
                continue;
            }
        }
        let tp = h.touchpoint_id.or(data.touchpoint_id);
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
    fn local_bases_are_told_apart() {
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:3000",
        ] {
            assert!(is_local_base(local), "{local}");
        }
        for public in [
            "https://palaute.example.fi",
            "http://192.0.2.2:8080",
            "not a url",
        ] {
            assert!(!is_local_base(public), "{public}");
        }
    }

    #[test]
    fn the_configured_address_wins_over_the_request_host() {
        assert_eq!(
            public_base(Some("https://palaute.example.fi/"), Some("evil.example")),
            "https://palaute.example.fi"
        );
        assert_eq!(public_base(None, None), "http://localhost");
        assert_eq!(
            public_base(None, Some("127.0.0.1:8080")),
            "http://127.0.0.1:8080"
        );
        assert_eq!(public_base(None, Some("[::1]:80")), "http://[::1]:80");
        assert_eq!(public_base(None, Some("LocalHost")), "http://LocalHost");
    }

    #[test]
    fn without_a_configured_address_a_foreign_or_malformed_host_is_not_used() {
        let long = format!("localhost:{}", "9".repeat(3000));
        for host in [
            "evil.example",
            "kohtaamo.local:8080",
            "10.0.0.1",
            "localhost.evil.example",
            "localhost:0",
            "localhost:",
            "localhost:99999",
            "localhost/x",
            "user@localhost",
            "[::1",
            "[::1]x",
            "127.0.0.1:80:80",
            long.as_str(),
            &"a.".repeat(2000),
        ] {
            assert!(!is_loopback_host(host), "{host:.40}");
            assert_eq!(public_base(None, Some(host)), "http://localhost");
        }
        assert!(is_loopback_host("app.localhost:3000"));
        assert!(is_loopback_host("127.1.2.3"));
    }

    #[test]
    fn a_configured_public_url_must_be_a_plain_http_address() {
        assert_eq!(
            parse_public_url("https://palaute.example.fi/").as_deref(),
            Ok("https://palaute.example.fi")
        );
        assert_eq!(
            parse_public_url("https://example.fi/palaute").as_deref(),
            Ok("https://example.fi/palaute")
        );
        for bad in [
            "palaute.example.fi",
            "ftp://example.fi",
            "https://u:p@example.fi",
            "https://example.fi/?a=1",
            "https://example.fi/#x",
            "javascript:alert(1)",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            survey_url("http://h", "k3y", Some(12)),
            "http://h/f/k3y?tp=12"
        );
        assert_eq!(survey_url("http://h", "k3y", None), "http://h/f/k3y");
    }
}
