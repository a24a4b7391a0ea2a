//! The public address respondents reach (links, QR codes, the widget snippet,
//! invitations), shared by the API and the survey pages.

use axum::http::{header, HeaderMap};

use crate::AppState;

/// The address respondents reach: the configured public URL, else this request's host.
pub fn public_base(st: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &st.config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}
