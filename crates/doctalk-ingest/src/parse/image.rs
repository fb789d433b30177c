//! Image files (a photo or scan of a page): decoded within memory limits and read by OCR; each
//! page of a multi-page TIFF is a page of the document.

use std::io::Cursor;
use std::path::Path;

use super::ocr::{read_picture, OcrMode, INSTALL_HINT};
use super::ParseOptions;
use crate::{Block, Diagnostic, DiagnosticCode, Document, Format, IngestError, Result};

/// Pictures larger than this are refused before they are decoded (a decompression bomb declares
/// 60,000 × 60,000 pixels in a few kilobytes).
const MAX_PIXELS: u64 = 100_000_000;
use super::ocr::MAX_PICTURE_SIDE;
/// A TIFF with more pages than this is read up to here.
const MAX_TIFF_PAGES: usize = 10_000;

pub(super) fn parse(path: &Path, opts: &ParseOptions) -> Result<Document> {
    let reader = match (&opts.ocr.reader, opts.ocr.mode) {
        (_, OcrMode::Never) => {
            return Err(IngestError::NeedsOcr {
                path: path.to_path_buf(),
                reason: "it is a picture, and OCR was turned off (--ocr auto or always reads it)".to_string(),
            })
        }
        (None, _) => {
            return Err(IngestError::NeedsOcr {
                path: path.to_path_buf(),
                reason: format!("it is a picture, and OCR is not set up; {INSTALL_HINT}"),
            })
        }
        (Some(reader), _) => reader.clone(),
    };
    if let Err(reason) = reader.ready() {
        return Err(IngestError::NeedsOcr {
            path: path.to_path_buf(),
            reason: format!("it is a picture, and {reason}"),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let corrupt = |reason: String| IngestError::Corrupt {
        path: path.to_path_buf(),
        format: "image",
        reason,
    };
    let mut blocks = Vec::new();
    let mut diagnostics = Vec::new();
    let mut read = |index: usize, total: usize, page: Result<image::DynamicImage, String>| {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        match page {
            Ok(picture) => {
                let rgb = flatten(picture);
                let (w, h) = (rgb.width() as usize, rgb.height() as usize);
                let (block, diagnostic) = read_picture(reader.as_ref(), w, h, rgb.into_raw(), number);
                diagnostics.push(diagnostic);
                blocks.extend(block.map(Block::Text));
            }
            Err(reason) => diagnostics.push(Diagnostic::new(
                DiagnosticCode::OcrFailed,
                format!("page {number} of the picture cannot be decoded: {reason}"),
                Some(number),
            )),
        }
        opts.ocr.report(index + 1, total);
    };
    let total = if is_tiff(&bytes) {
        let total = tiff_page_count(&bytes).map_err(corrupt)?;
        opts.ocr.report(0, total);
        each_tiff_page(&bytes, |i, page| read(i, total, page)).map_err(corrupt)?;
        total
    } else {
        let picture = decode_single(&bytes).map_err(corrupt)?;
        opts.ocr.report(0, 1);
        read(0, 1, Ok(picture));
        1
    };
    if blocks.is_empty() {
        let reason = diagnostics
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(IngestError::NoText {
            path: path.to_path_buf(),
            reason: if reason.is_empty() {
                "OCR found no text in the picture".to_string()
            } else {
                reason
            },
        });
    }
    Ok(Document {
        title: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        format: Format::Image,
        page_count: Some(u32::try_from(total).unwrap_or(u32::MAX)),
        blocks,
        diagnostics,
    })
}

fn is_tiff(bytes: &[u8]) -> bool {
    bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*")
}

/// A PNG, JPEG, WebP, BMP or GIF (the first frame), its size checked before its pixels are.
fn decode_single(bytes: &[u8]) -> Result<image::DynamicImage, String> {
    image::guess_format(bytes).map_err(|e| format!("not a picture DocTalk can read ({e})"))?;
    let reader = || -> Result<image::ImageReader<Cursor<&[u8]>>, String> {
        let mut reader = image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())?;
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(1 << 30);
        reader.limits(limits);
        Ok(reader)
    };
    let (w, h) = reader()?.into_dimensions().map_err(|e| e.to_string())?;
    check_size(w, h)?;
    reader()?.decode().map_err(|e| e.to_string())
}

fn check_size(w: u32, h: u32) -> Result<(), String> {
    if w == 0 || h == 0 {
        return Err(format!("it has no pixels ({w}×{h})"));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "it is {w}×{h} pixels, more than the {} megapixels a page may have",
            MAX_PIXELS / 1_000_000
        ));
    }
    Ok(())
}

/// Over white, as RGB, scaled down to at most [`MAX_PICTURE_SIDE`].
fn flatten(picture: image::DynamicImage) -> image::RgbImage {
    let longest = picture.width().max(picture.height());
    let picture = if longest > MAX_PICTURE_SIDE {
        let scale = f64::from(MAX_PICTURE_SIDE) / f64::from(longest);
        let (w, h) = (
            ((f64::from(picture.width()) * scale).round() as u32).max(1),
            ((f64::from(picture.height()) * scale).round() as u32).max(1),
        );
        picture.resize_exact(w, h, image::imageops::FilterType::Triangle)
    } else {
        picture
    };
    if !picture.color().has_alpha() {
        return picture.to_rgb8();
    }
    let rgba = picture.to_rgba8();
    let (w, h) = rgba.dimensions();
    let mut rgb = image::RgbImage::new(w, h);
    for (out, px) in rgb.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(px[3]);
        for c in 0..3 {
            out[c] = ((u32::from(px[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    rgb
}

/// How many pages the TIFF has; a damaged directory ends the count (its page is then reported
/// when it is reached).
fn tiff_page_count(bytes: &[u8]) -> Result<usize, String> {
    let mut decoder = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut count = 1;
    while decoder.more_images() && count < MAX_TIFF_PAGES {
        if decoder.next_image().is_err() {
            return Ok(count + 1);
        }
        count += 1;
    }
    Ok(count)
}

/// Decodes the TIFF's pages one at a time, handing each to `each` (only one page's pixels exist at
/// a time). A page that cannot be decoded, or a directory that cannot be reached, is an `Err` page;
/// only a file that is not a TIFF at all is an `Err`.
fn each_tiff_page(
    bytes: &[u8],
    mut each: impl FnMut(usize, Result<image::DynamicImage, String>),
) -> Result<(), String> {
    let mut decoder = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut index = 0;
    loop {
        each(index, tiff_page(&mut decoder));
        index += 1;
        if !decoder.more_images() || index >= MAX_TIFF_PAGES {
            return Ok(());
        }
        if let Err(e) = decoder.next_image() {
            each(index, Err(e.to_string()));
            return Ok(());
        }
    }
}

/// The current TIFF directory as a picture (bilevel, grey, RGB or RGBA, 8 bits or 1).
fn tiff_page(decoder: &mut tiff::decoder::Decoder<Cursor<&[u8]>>) -> Result<image::DynamicImage, String> {
    use tiff::decoder::DecodingResult;
    use tiff::ColorType;
    let (w, h) = decoder.dimensions().map_err(|e| e.to_string())?;
    check_size(w, h)?;
    let color = decoder.colortype().map_err(|e| e.to_string())?;
    let data = match decoder.read_image().map_err(|e| e.to_string())? {
        DecodingResult::U8(data) => data,
        other => {
            return Err(format!(
                "its samples are not 8-bit ({:?})",
                std::mem::discriminant(&other)
            ))
        }
    };
    let (wu, hu) = (w as usize, h as usize);
    let picture = match color {
        ColorType::Gray(8) => image::GrayImage::from_raw(w, h, data).map(image::DynamicImage::ImageLuma8),
        ColorType::Gray(1) => {
            // Rows are padded to whole bytes. The tiff crate has already turned WhiteIsZero
            // files (the fax convention) around, so a 1 bit is white here whatever the file said.
            let stride = wu.div_ceil(8);
            let mut grey = Vec::with_capacity(wu * hu);
            for y in 0..hu {
                for x in 0..wu {
                    let bit = data.get(y * stride + x / 8).map_or(0, |b| (b >> (7 - x % 8)) & 1);
                    grey.push(if bit == 1 { 255 } else { 0 });
                }
            }
            image::GrayImage::from_raw(w, h, grey).map(image::DynamicImage::ImageLuma8)
        }
        ColorType::RGB(8) => image::RgbImage::from_raw(w, h, data).map(image::DynamicImage::ImageRgb8),
        ColorType::RGBA(8) => image::RgbaImage::from_raw(w, h, data).map(image::DynamicImage::ImageRgba8),
        other => return Err(format!("its colour type {other:?} is not supported")),
    };
    picture.ok_or_else(|| "its pixel data is shorter than its size".to_string())
}
