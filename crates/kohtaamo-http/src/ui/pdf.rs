//! PDF downloads of the diagrams: the same SVG as the page, laid out for paper — the
//! journey map and the blueprint on an A3 landscape page (in bands of touchpoints, as
//! many as make the text largest), the package diagram on an A4 page — and converted by
//! the svg2pdf crate with the fonts embedded (DejaVu Sans, shipped in the binary, so a
//! PDF looks the same on every machine).

use std::sync::{Arc, OnceLock};

use svg2pdf::usvg;

/// A sheet of paper in PDF points (1/72 inch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Paper {
    A3Landscape,
    A4Portrait,
}

impl Paper {
    pub fn size(self) -> (f64, f64) {
        match self {
            Paper::A3Landscape => (1190.55, 841.89),
            Paper::A4Portrait => (595.28, 841.89),
        }
    }
}

/// Space around the content and for the title, in points.
const MARGIN: f64 = 28.0;
const TITLE: f64 = 34.0;

fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(include_bytes!("../../fonts/DejaVuSans.ttf").to_vec());
            db.load_font_data(include_bytes!("../../fonts/DejaVuSans-Bold.ttf").to_vec());
            db.set_sans_serif_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

/// One drawing to place: the SVG document and its own width and height.
pub struct Part {
    pub svg: String,
    pub width: f64,
    pub height: f64,
}

/// The scale at which `parts`, stacked, fit the paper under a title.
pub fn fit_scale(paper: Paper, parts: &[(f64, f64)]) -> f64 {
    let (w, h) = paper.size();
    let widest = parts.iter().map(|p| p.0).fold(1.0, f64::max);
    let tall: f64 = parts.iter().map(|p| p.1).sum::<f64>().max(1.0);
    let gaps = 10.0 * parts.len().saturating_sub(1) as f64;
    ((w - 2.0 * MARGIN) / widest).min((h - 2.0 * MARGIN - TITLE - gaps) / tall)
}

/// The page: a title, then the parts one under another, scaled to fill the width (or the
/// height, whichever is reached first), converted to PDF.
pub fn page(paper: Paper, title: &str, parts: &[Part]) -> Result<Vec<u8>, String> {
    let (w, h) = paper.size();
    let sizes: Vec<(f64, f64)> = parts.iter().map(|p| (p.width, p.height)).collect();
    let s = fit_scale(paper, &sizes);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\"><rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/><text x=\"{MARGIN}\" y=\"{:.1}\" font-size=\"16\" font-weight=\"bold\" fill=\"#1d2433\">{}</text>",
        MARGIN + 16.0,
        crate::ui::charts::esc(title)
    );
    let mut y = MARGIN + TITLE;
    for p in parts {
        svg += &format!(
            "<g transform=\"translate({MARGIN} {y:.2}) scale({s:.5})\">{}</g>",
            // The part's own XML declaration-free document nests as an <svg> element.
            p.svg
        );
        y += p.height * s + 10.0;
    }
    svg += "</svg>";
    let mut options = usvg::Options::default();
    *options.fontdb_mut() = (*fonts()).clone();
    let tree = usvg::Tree::from_str(&svg, &options).map_err(|e| e.to_string())?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: 72.0 },
    )
    .map_err(|e| e.to_string())
}

/// A text document for paper: a title, paragraphs, then sections of rows (a time and
/// what happened), and a closing paragraph.
pub struct TextDoc {
    pub title: String,
    pub paragraphs: Vec<String>,
    pub sections: Vec<(String, Vec<(String, String)>)>,
    pub closing: String,
}

/// Text sizes and places on an A4 page, in points.
const BODY: f64 = 10.0;
const LINE: f64 = 14.0;
const SIDE: f64 = 50.0;
const WHEN_WIDTH: f64 = 130.0;
/// DejaVu Sans's widest common letters are about 0.62 em; wrapping at this many
/// characters keeps a line inside its column.
const EM_PER_CHAR: f64 = 0.62;

fn chars_in(width: f64, size: f64) -> usize {
    ((width / (size * EM_PER_CHAR)).floor() as usize).max(8)
}

/// Text as SVG character data: escaped, control characters (not allowed in XML)
/// made spaces.
fn svg_text(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::ui::charts::esc(&clean)
}

/// Lays `doc` out on A4 pages, wrapping every text to its column and starting a new
/// page when one is full; each page is numbered `n / N`. Returns one SVG per page.
pub fn text_pages(doc: &TextDoc) -> Vec<String> {
    let (w, h) = Paper::A4Portrait.size();
    let bottom = h - SIDE - LINE;
    let mut pages: Vec<String> = vec![];
    let mut page = String::new();
    let mut y = SIDE;
    let new_page = |pages: &mut Vec<String>, page: &mut String, y: &mut f64| {
        if !page.is_empty() {
            pages.push(std::mem::take(page));
        }
        *y = SIDE;
    };
    let text = |page: &mut String, x: f64, y: f64, size: f64, bold: bool, fill: &str, s: &str| {
        page.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\"{} fill=\"{fill}\">{}</text>",
            if bold { " font-weight=\"bold\"" } else { "" },
            svg_text(s)
        ));
    };
    let wrap = |s: &str, width: f64, size: f64| -> Vec<String> {
        let lines: Vec<String> = s
            .lines()
            .flat_map(|l| {
                textwrap::wrap(l, chars_in(width, size))
                    .into_iter()
                    .map(|c| c.into_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        if lines.is_empty() {
            vec![String::new()]
        } else {
            lines
        }
    };
    let full = w - 2.0 * SIDE;
    for line in wrap(&doc.title, full, 16.0) {
        y += 20.0;
        text(&mut page, SIDE, y, 16.0, true, "#1d2433", &line);
    }
    y += 6.0;
    for p in &doc.paragraphs {
        for line in wrap(p, full, BODY) {
            if y + LINE > bottom {
                new_page(&mut pages, &mut page, &mut y);
            }
            y += LINE;
            text(&mut page, SIDE, y, BODY, false, "#1d2433", &line);
        }
        y += 4.0;
    }
    for (title, rows) in &doc.sections {
        // A heading is not left alone at the foot of a page.
        if y + 3.0 * LINE > bottom {
            new_page(&mut pages, &mut page, &mut y);
        }
        y += LINE + 8.0;
        text(&mut page, SIDE, y, 12.0, true, "#1d2433", title);
        y += 4.0;
        for (when, what) in rows {
            let whens = wrap(when, WHEN_WIDTH - 8.0, BODY);
            let whats = wrap(what, full - WHEN_WIDTH, BODY);
            for k in 0..whens.len().max(whats.len()) {
                if y + LINE > bottom {
                    new_page(&mut pages, &mut page, &mut y);
                }
                y += LINE;
                if let Some(t) = whens.get(k) {
                    text(&mut page, SIDE, y, BODY, false, "#4a5468", t);
                }
                if let Some(t) = whats.get(k) {
                    text(&mut page, SIDE + WHEN_WIDTH, y, BODY, false, "#1d2433", t);
                }
            }
            y += 3.0;
        }
    }
    y += 10.0;
    for line in wrap(&doc.closing, full, BODY) {
        if y + LINE > bottom {
            new_page(&mut pages, &mut page, &mut y);
        }
        y += LINE;
        text(&mut page, SIDE, y, BODY, false, "#4a5468", &line);
    }
    new_page(&mut pages, &mut page, &mut y);
    let n = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(k, body)| {
            format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\"><rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>{body}<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"end\" fill=\"#4a5468\">{} / {n}</text></svg>",
                w - SIDE,
                h - SIDE / 2.0,
                k + 1
            )
        })
        .collect()
}

/// One PDF of `pages` (SVG documents, each of the paper's size), a page each, the
/// fonts embedded.
pub fn document(paper: Paper, pages: &[String]) -> Result<Vec<u8>, String> {
    use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref};
    let (w, h) = paper.size();
    let mut alloc = Ref::new(1);
    let catalog = alloc.bump();
    let tree_id = alloc.bump();
    let mut pdf = Pdf::new();
    let mut kids = vec![];
    let mut options = usvg::Options::default();
    *options.fontdb_mut() = (*fonts()).clone();
    for svg in pages {
        let tree = usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
        let (chunk, drawing) = svg2pdf::to_chunk(&tree, svg2pdf::ConversionOptions::default())
            .map_err(|e| e.to_string())?;
        let mut renumbered = std::collections::HashMap::new();
        let chunk = chunk.renumber(|old| *renumbered.entry(old).or_insert_with(|| alloc.bump()));
        let drawing = *renumbered
            .get(&drawing)
            .ok_or("the drawing is not in its chunk")?;
        let (page_id, content_id) = (alloc.bump(), alloc.bump());
        kids.push(page_id);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, w as f32, h as f32));
        page.parent(tree_id);
        page.contents(content_id);
        page.resources().x_objects().pair(Name(b"P"), drawing);
        page.finish();
        let mut content = Content::new();
        content
            .transform([w as f32, 0.0, 0.0, h as f32, 0.0, 0.0])
            .x_object(Name(b"P"));
        pdf.stream(content_id, &content.finish());
        pdf.extend(&chunk);
    }
    pdf.catalog(catalog).pages(tree_id);
    let count = kids.len() as i32;
    pdf.pages(tree_id).kids(kids).count(count);
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(rows: usize, what: &str) -> TextDoc {
        TextDoc {
            title: "Mitä tiedämme sinusta".into(),
            paragraphs: vec!["Kaikki, mitä meillä on.".into()],
            sections: vec![(
                "Vastauksesi".into(),
                (0..rows)
                    .map(|k| (format!("1.3.2026 klo 9.{k:02}"), what.to_owned()))
                    .collect(),
            )],
            closing: "Voit pyytää korjaamaan tai poistamaan tiedot.".into(),
        }
    }

    #[test]
    fn long_records_go_on_over_numbered_pages_and_every_line_fits_its_column() {
        let long =
            "Juna oli myöhässä ja laukku <katosi> & löytyi \u{1}vasta viikon päästä. ".repeat(6);
        let pages = text_pages(&doc(60, &long));
        assert!(pages.len() > 3, "{} pages", pages.len());
        let n = pages.len();
        for (k, p) in pages.iter().enumerate() {
            assert!(p.contains(&format!("{} / {n}</text>", k + 1)));
            assert!(!p.contains('\u{1}') && !p.contains("<katosi>"));
            // Every text line ends above the footer.
            for y in p.split(" y=\"").skip(1).filter_map(|s| s.split('"').next()) {
                let y: f64 = y.parse().unwrap();
                assert!(y <= 841.89 - SIDE / 2.0 + 0.1, "{y}");
            }
            for t in p.split("font-size=\"10\"").skip(1) {
                let line = t.split('>').nth(1).unwrap().split('<').next().unwrap();
                let chars = line
                    .replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .chars()
                    .count();
                assert!(chars <= chars_in(595.28 - 2.0 * SIDE, BODY), "{line}");
            }
        }
        let pdf = document(Paper::A4Portrait, &pages).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains(&format!("/Count {n}")),
            "one PDF page per page"
        );
    }

    #[test]
    fn a_short_record_is_one_page() {
        assert_eq!(text_pages(&doc(3, "Hyvä palvelu")).len(), 1);
    }
}
