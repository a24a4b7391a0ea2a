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
