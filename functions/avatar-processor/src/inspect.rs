//! The check of one uploaded file, by its bytes alone: its magic number
//! names one of the accepted formats, it decodes in full under limits that
//! stop decompression bombs before they allocate, and it is re-encoded
//! from its pixels, which leaves every metadata block (EXIF, XMP, text
//! chunks, ICC profiles, comments) behind.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Neither side may exceed this many pixels (a header can claim up to
/// 2^32 per side; a bomb claims huge sides over a tiny compressed body).
pub const MAX_SIDE: u32 = 8_192;
/// At most this many pixels in all: 16 megapixels covers the photos of
/// current phones (12 MP) while bounding the decoded buffer.
pub const MAX_PIXELS: u64 = 16_777_216;
/// The decoders may allocate at most this much (16 MP in RGBA is 64 MiB).
pub const MAX_ALLOC: u64 = 72 * 1024 * 1024;
/// The stored avatar is at most this many pixels per side (larger images
/// are scaled down): an avatar is shown small, and the stored file stays
/// small.
pub const STORED_SIDE: u32 = 1_024;
const JPEG_QUALITY: u8 = 85;

/// An accepted format, as its bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvatarFormat {
    Png,
    Jpeg,
    Webp,
}

impl AvatarFormat {
    /// The format whose magic number `bytes` start with. Checked here
    /// rather than left to `image`'s guessing, which knows formats this
    /// crate does not decode and would report them otherwise.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        if bytes.starts_with(PNG) {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Png => ImageFormat::Png,
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

/// Why a file is not an avatar (the user sees `unsupported_file`; the
/// reason goes to the log only).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error("not a PNG, JPEG or WebP file")]
    UnknownFormat,
    #[error("{width}x{height} is over the size limits")]
    TooLarge { width: u32, height: u32 },
    #[error("the image does not decode: {0}")]
    Undecodable(String),
    #[error("the image could not be re-encoded: {0}")]
    Unencodable(String),
}

/// A checked image, re-encoded without metadata.
#[derive(Debug)]
pub struct CleanImage {
    pub format: AvatarFormat,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Checks `bytes` and re-encodes them in their own format.
pub fn clean(bytes: &[u8]) -> Result<CleanImage, Rejection> {
    let format = AvatarFormat::sniff(bytes).ok_or(Rejection::UnknownFormat)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits());
    // The header alone first: the declared size is refused before any
    // pixel buffer exists.
    let mut decoder = reader.into_decoder().map_err(|error| refusal(&error))?;
    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Rejection::TooLarge { width, height });
    }
    // The EXIF orientation is the one piece of metadata that changes how
    // the picture looks: applied to the pixels before the metadata goes.
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|error| refusal(&error))?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    if image.width() > STORED_SIDE || image.height() > STORED_SIDE {
        image = image.thumbnail(STORED_SIDE, STORED_SIDE);
    }
    let bytes = encode(&image, format)?;
    Ok(CleanImage {
        format,
        bytes,
        width: image.width(),
        height: image.height(),
    })
}

fn refusal(error: &image::ImageError) -> Rejection {
    match error {
        image::ImageError::Limits(_) => Rejection::TooLarge {
            width: 0,
            height: 0,
        },
        other => Rejection::Undecodable(other.to_string()),
    }
}

/// The pixels alone, in `format`. The encoders write no metadata unless
/// asked to, and none is asked for.
fn encode(image: &DynamicImage, format: AvatarFormat) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::new();
    let written = match format {
        AvatarFormat::Png => image.write_with_encoder(PngEncoder::new(&mut out)),
        // JPEG has no alpha and 8 bits per channel.
        AvatarFormat::Jpeg => DynamicImage::ImageRgb8(image.to_rgb8())
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)),
        // image's WebP encoder is lossless, 8-bit RGB(A) only.
        AvatarFormat::Webp => {
            let converted = if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(image.to_rgb8())
            };
            converted.write_with_encoder(WebPEncoder::new_lossless(&mut out))
        }
    };
    written.map_err(|error| Rejection::Unencodable(error.to_string()))?;
    Ok(out)
}
