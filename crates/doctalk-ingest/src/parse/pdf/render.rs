//! Pages to pixels for OCR, with hayro (a PDF renderer in safe Rust that decodes every image
//! filter scans use: DCT, CCITT G3/G4, JBIG2, JPX, Flate), at 200 dpi or less.

use std::sync::Arc;
use std::time::Duration;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};

use crate::parse::ocr::MAX_PICTURE_SIDE;
use doctalk_contain::{contained, stream_isolated, StreamEnd};

/// Pages are drawn at this resolution, unless their longer side would exceed
/// [`MAX_PICTURE_SIDE`] (an A4 page is 1,654 × 2,339 px at 200 dpi).
const DPI: f32 = 200.0;

/// One rendered page: width, height, RGB bytes.
pub(crate) type Picture = (usize, usize, Vec<u8>);

/// How long the OCR may wait for the next page once it asks for it (drawing started earlier, while
/// the page before was read). hayro has no limits of its own, and a hostile page (a pathological
/// path, a huge pattern) can keep it busy for minutes; a real scanned page takes well under a
/// second at 200 dpi.
const PAGE_DRAW_BUDGET: Duration = Duration::from_secs(60);

/// One message of the drawing thread.
enum Drawn {
    Page(usize, Result<Picture, String>),
    Unopenable(String),
}

/// Draws each page in `pages` (0-based) and hands it to `each` as soon as it is drawn. Drawing
/// runs on a thread of its own, one page ahead of `each` (which reads the previous page meanwhile),
/// so at most two pages' pixels exist at a time. Errors are per page, except a file hayro cannot
/// open at all. A page not drawn within [`PAGE_DRAW_BUDGET`] of being asked for is reported, the
/// pages after it are reported as not drawn, and the drawing thread is abandoned.
pub(crate) fn each_page(
    bytes: &Arc<Vec<u8>>,
    passwords: &[Vec<u8>],
    pages: &[usize],
    mut each: impl FnMut(usize, Result<Picture, String>),
) -> Result<(), String> {
    let (data, passwords, wanted) = (Arc::clone(bytes), passwords.to_vec(), pages.to_vec());
    let mut unopenable = None;
    let mut handed = 0;
    let end = stream_isolated(
        "pdf-draw",
        PAGE_DRAW_BUDGET,
        move |send| draw_pages(&data, &passwords, &wanted, send),
        |drawn| match drawn {
            Drawn::Page(index, picture) => {
                handed += 1;
                each(index, picture);
            }
            Drawn::Unopenable(reason) => unopenable = Some(reason),
        },
    );
    if let Some(reason) = unopenable {
        return Err(reason);
    }
    let why = match end {
        StreamEnd::Finished => return Ok(()),
        StreamEnd::TimedOut(budget) => format!("drawing it took longer than {} s", budget.as_secs()),
        StreamEnd::Panicked(panic) => format!("the renderer failed ({panic})"),
    };
    let rest = &pages[handed.min(pages.len())..];
    if let Some((&first, after)) = rest.split_first() {
        each(first, Err(why));
        for &index in after {
            each(
                index,
                Err(format!("not drawn: drawing page {} failed before it", first + 1)),
            );
        }
    }
    Ok(())
}

/// The drawing thread: opens the file and sends each wanted page's picture, until the last one or
/// until nobody listens.
fn draw_pages(bytes: &Arc<Vec<u8>>, passwords: &[Vec<u8>], pages: &[usize], send: &dyn Fn(Drawn) -> bool) {
    let pdf = match open(bytes, passwords) {
        Ok(pdf) => pdf,
        Err(reason) => {
            send(Drawn::Unopenable(reason));
            return;
        }
    };
    let settings = InterpreterSettings::default();
    let render_settings = RenderSettings::default();
    let all = pdf.pages();
    for &index in pages {
        // A cache per page: hayro's keeps decoded images and fonts, and a scan has a new image on
        // each page, so a shared one would only grow (the 100-page scan peaked at 1.74 GB either
        // way: the OCR's activations dominate).
        let cache = RenderCache::new();
        let picture = match all.get(index) {
            None => Err(format!("the renderer sees no page {}", index + 1)),
            Some(page) => {
                let (w, h) = page.render_dimensions();
                if !(w.is_finite() && h.is_finite()) || w < 1.0 || h < 1.0 {
                    Err(format!("the page has no area ({w}×{h} points)"))
                } else {
                    let scale = (DPI / 72.0).min(MAX_PICTURE_SIDE as f32 / w.max(h));
                    contained(|| {
                        let pixmap = hayro::render(
                            page,
                            &cache,
                            &settings,
                            &render_settings,
                            &PixmapSettings {
                                x_scale: scale,
                                y_scale: scale,
                                bg_color: WHITE,
                            },
                        );
                        let (pw, ph) = (usize::from(pixmap.width()), usize::from(pixmap.height()));
                        // Premultiplied RGBA over an opaque white background: the colours as they are.
                        let rgb: Vec<u8> = pixmap
                            .data_as_u8_slice()
                            .chunks_exact(4)
                            .flat_map(|p| [p[0], p[1], p[2]])
                            .collect();
                        (pw, ph, rgb)
                    })
                    .map_err(|panic| format!("the renderer failed on it ({panic})"))
                    .and_then(|(pw, ph, rgb)| {
                        if pw == 0 || ph == 0 {
                            Err("the page has no area".to_string())
                        } else {
                            Ok((pw, ph, rgb))
                        }
                    })
                }
            }
        };
        if !send(Drawn::Page(index, picture)) {
            return;
        }
    }
}

fn open(bytes: &Arc<Vec<u8>>, passwords: &[Vec<u8>]) -> Result<Pdf, String> {
    let data = Arc::clone(bytes);
    let tries = std::iter::once("").chain(passwords.iter().filter_map(|p| std::str::from_utf8(p).ok()));
    let mut last = String::new();
    for password in tries {
        match contained(|| Pdf::new_with_password(Arc::clone(&data), password)) {
            Ok(Ok(pdf)) => return Ok(pdf),
            Ok(Err(e)) => last = format!("{e:?}"),
            Err(panic) => return Err(format!("the renderer failed to open the file ({panic})")),
        }
    }
    Err(format!("the renderer cannot open the file ({last})"))
}
