//! Spreadsheet output shared by the API's response exports and the dashboard's CSV:
//! cells that cannot run as formulas, and the attachment response around a file.

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// A spreadsheet cell that cannot run as a formula: text starting with = + - @, tab
/// or carriage return gets a leading apostrophe. A number (`-63.15`, `1e-3`) stays a
/// number.
pub fn safe_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let number = s.parse::<f64>().is_ok_and(f64::is_finite)
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !number && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// CSV lines: the header row (our own column names) as plain CSV, then the rows with
/// every text cell quoted and formulas neutralised, numbers bare. Quoting every text
/// matters because Excel in Finnish or Swedish splits cells at `;`, which plain CSV
/// leaves unquoted: `ok;=1+1` would otherwise put a formula in the next cell.
pub fn csv_lines(
    header: Option<&[String]>,
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    if let Some(h) = header {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(h)?;
        w.flush()?;
    }
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(&mut out);
    for r in rows {
        w.write_record(r.iter().map(|c| safe_cell(c).into_owned()))?;
    }
    w.flush()?;
    drop(w);
    Ok(out)
}

/// A file download named `name`.
pub fn attachment(name: &str, content_type: &'static str, body: Body) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// A QR code as an SVG image answer (survey links, capture links), 240 px at least.
pub fn qr_svg(code: &qrcode::QrCode) -> Response {
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_numbers_and_texts_cannot_become_formulas() {
        assert_eq!(safe_cell("-63.15"), "-63.15");
        assert_eq!(safe_cell("1e-3"), "1e-3");
        assert_eq!(safe_cell("-1+2"), "'-1+2");
        assert_eq!(safe_cell("=1+1"), "'=1+1");
        assert_eq!(safe_cell("-inf"), "'-inf");
        let h = vec!["a".to_string(), "b".to_string()];
        let out = csv_lines(Some(&h), vec![vec!["ok;=1+1".into(), "-63.15".into()]]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a,b\n\"ok;=1+1\",-63.15\n");
    }
}
