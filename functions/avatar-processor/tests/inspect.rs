//! The processor's check on real files made here: PNG, JPEG and WebP with
//! metadata (accepted, re-encoded without it), and what must be refused.

use avatar_processor::inspect::{clean, AvatarFormat, Rejection, STORED_SIDE};
use image::{DynamicImage, ImageFormat, RgbImage};

const SECRET: &str = "SECRET-GPS-48.8584N-2.2945E";

/// A picture with some structure (a smooth gradient and a stripe), so the
/// encoders have real work to do.
fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let stripe = if (x / 7) % 2 == 0 { 40 } else { 0 };
        image::Rgb([
            (x * 3) as u8,
            (y * 5) as u8,
            ((x + y) as u8).wrapping_add(stripe),
        ])
    })
}

/// A PNG with text chunks (tEXt and iTXt) carrying the secret.
fn png_with_text(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .add_text_chunk("Comment".into(), SECRET.into())
        .expect("text chunk");
    encoder
        .add_itxt_chunk("GPS".into(), SECRET.into())
        .expect("itxt chunk");
    let mut writer = encoder.write_header().expect("header");
    writer
        .write_image_data(picture(width, height).as_raw())
        .expect("pixels");
    writer.finish().expect("finish");
    out
}

/// A minimal EXIF block (little-endian TIFF, no entries) followed by the
/// secret, as a camera's maker notes might carry it.
fn exif_payload() -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    tiff.extend_from_slice(SECRET.as_bytes());
    tiff
}

/// A JPEG with an APP1 EXIF segment and a comment segment.
fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let mut plain = Vec::new();
    DynamicImage::ImageRgb8(picture(width, height))
        .write_to(&mut std::io::Cursor::new(&mut plain), ImageFormat::Jpeg)
        .expect("jpeg");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(exif_payload());
    let mut out = plain[..2].to_vec(); // SOI
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

/// A WebP in the extended format (VP8X) with an EXIF chunk.
fn webp_with_exif(width: u32, height: u32) -> Vec<u8> {
    let mut plain = Vec::new();
    DynamicImage::ImageRgb8(picture(width, height))
        .write_to(&mut std::io::Cursor::new(&mut plain), ImageFormat::WebP)
        .expect("webp");
    let image_chunk = &plain[12..]; // after "RIFF" size "WEBP"
    let mut vp8x = vec![0x08, 0, 0, 0]; // flags: EXIF present
    vp8x.extend(&(width - 1).to_le_bytes()[..3]);
    vp8x.extend(&(height - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(image_chunk);
    body.extend(riff_chunk(b"EXIF", &exif_payload()));
    let mut out = b"RIFF".to_vec();
    out.extend(u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend(body);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_clean(input: &[u8], format: AvatarFormat, metadata_markers: &[&[u8]]) {
    assert!(
        contains(input, SECRET.as_bytes()),
        "the input carries the secret"
    );
    assert_eq!(AvatarFormat::sniff(input), Some(format));
    let cleaned = clean(input).expect("a real image is accepted");
    assert_eq!(cleaned.format, format);
    assert_eq!(AvatarFormat::sniff(&cleaned.bytes), Some(format));
    assert!(
        !contains(&cleaned.bytes, SECRET.as_bytes()),
        "metadata left"
    );
    for marker in metadata_markers {
        assert!(
            !contains(&cleaned.bytes, marker),
            "{format:?} still has a {} block",
            String::from_utf8_lossy(marker)
        );
    }
    let decoded = image::load_from_memory(&cleaned.bytes).expect("the output decodes");
    assert_eq!(
        (decoded.width(), decoded.height()),
        (cleaned.width, cleaned.height)
    );
    assert_eq!((cleaned.width, cleaned.height), (120, 80));
}

#[test]
fn a_png_is_accepted_and_loses_its_text_chunks() {
    assert_clean(
        &png_with_text(120, 80),
        AvatarFormat::Png,
        &[b"tEXt", b"iTXt", b"eXIf"],
    );
}

#[test]
fn a_jpeg_is_accepted_and_loses_its_exif_and_comment() {
    assert_clean(
        &jpeg_with_exif(120, 80),
        AvatarFormat::Jpeg,
        &[b"Exif\0\0", &[0xFF, 0xFE]],
    );
}

#[test]
fn a_webp_is_accepted_and_loses_its_exif_chunk() {
    assert_clean(
        &webp_with_exif(120, 80),
        AvatarFormat::Webp,
        &[b"EXIF", b"VP8X"],
    );
}

#[test]
fn a_large_image_is_stored_scaled_down() {
    let cleaned = clean(&png_with_text(2_000, 1_000)).expect("accepted");
    assert_eq!(
        (cleaned.width, cleaned.height),
        (STORED_SIDE, STORED_SIDE / 2)
    );
}

#[test]
fn a_text_file_named_png_is_refused() {
    let text = b"this is a text file, whatever its name (avatar.png) says\n";
    assert_eq!(clean(text).unwrap_err(), Rejection::UnknownFormat);
}

#[test]
fn other_image_formats_are_refused() {
    let mut gif = Vec::new();
    gif.extend_from_slice(b"GIF89a\x01\0\x01\0\0\0\0;");
    assert_eq!(clean(&gif).unwrap_err(), Rejection::UnknownFormat);
    assert_eq!(clean(b"").unwrap_err(), Rejection::UnknownFormat);
}

#[test]
fn truncated_images_are_refused() {
    for whole in [png_with_text(120, 80), webp_with_exif(120, 80)] {
        let half = &whole[..whole.len() / 2];
        assert!(
            matches!(clean(half), Err(Rejection::Undecodable(_))),
            "{:?}",
            clean(half).map(|c| c.format)
        );
    }
    let header_only = &png_with_text(120, 80)[..20];
    assert!(clean(header_only).is_err());
}

/// A PNG whose header claims `width` x `height` over the pixels of a
/// 16x16 image: a decoder that trusted it would allocate for the claim.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(picture(16, 16))
        .write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .expect("png");
    // Signature (8), IHDR length (4), "IHDR" (4), width, height…
    assert_eq!(&bytes[12..16], b"IHDR");
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn decompression_bombs_are_refused_before_decoding() {
    for (width, height) in [(100_000, 100_000), (8_000, 8_000), (1, 1_000_000)] {
        let bomb = png_claiming(width, height);
        assert!(
            matches!(clean(&bomb), Err(Rejection::TooLarge { .. })),
            "{width}x{height}: {:?}",
            clean(&bomb).map(|c| (c.width, c.height))
        );
    }
}
