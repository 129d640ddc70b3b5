//! Real image files with metadata (text chunks, EXIF, a comment), and the
//! hostile files the avatar checks must refuse.

use image::{DynamicImage, ImageFormat, RgbImage};

/// What every fixture's metadata carries: it must not survive.
pub const SECRET: &str = "SECRET-GPS-48.8584N-2.2945E";

fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 3) as u8,
            (y * 5) as u8,
            ((x + y) as u8).wrapping_mul(7),
        ])
    })
}

fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(picture(width, height))
        .write_to(&mut std::io::Cursor::new(&mut out), format)
        .expect("encode");
    out
}

/// A PNG with tEXt and iTXt chunks.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .add_text_chunk("Comment".into(), SECRET.into())
        .expect("text");
    encoder
        .add_itxt_chunk("GPS".into(), SECRET.into())
        .expect("itxt");
    let mut writer = encoder.write_header().expect("header");
    writer
        .write_image_data(picture(width, height).as_raw())
        .expect("pixels");
    writer.finish().expect("finish");
    out
}

fn exif() -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    tiff.extend_from_slice(SECRET.as_bytes());
    tiff
}

/// A JPEG with an APP1 EXIF segment and a comment.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let plain = encoded(width, height, ImageFormat::Jpeg);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(exif());
    let mut out = plain[..2].to_vec();
    for (marker, payload) in [(0xE1u8, app1), (0xFE, SECRET.as_bytes().to_vec())] {
        out.extend([0xFF, marker]);
        out.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        out.extend(payload);
    }
    out.extend_from_slice(&plain[2..]);
    out
}

fn riff_chunk(name: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut chunk = name.to_vec();
    chunk.extend(u32::try_from(payload.len()).unwrap().to_le_bytes());
    chunk.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        chunk.push(0);
    }
    chunk
}

/// A WebP in the extended format with an EXIF chunk.
pub fn webp(width: u32, height: u32) -> Vec<u8> {
    let plain = encoded(width, height, ImageFormat::WebP);
    let mut vp8x = vec![0x08, 0, 0, 0];
    vp8x.extend(&(width - 1).to_le_bytes()[..3]);
    vp8x.extend(&(height - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(&plain[12..]);
    body.extend(riff_chunk(b"EXIF", &exif()));
    let mut out = b"RIFF".to_vec();
    out.extend(u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend(body);
    out
}

/// A PNG whose header claims `width` x `height` over 16x16 pixels.
pub fn bomb(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = encoded(16, 16, ImageFormat::Png);
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A `multipart/form-data` body of `fields` then `file` (as S3's POST
/// wants it: the file last): (content type, body).
pub fn form(fields: &[(String, String)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("----avatar{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"avatar.png\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
