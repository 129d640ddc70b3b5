//! The avatar processor: an S3 trigger that checks each uploaded file by
//! its bytes and stores the clean image under its owner (see `inspect`).
//! The only crate that links `image`.

pub mod inspect;
