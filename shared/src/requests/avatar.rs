//! `POST /users/me/avatar`.

use crate::domain::avatar::{AvatarContentType, AvatarSize};

crate::request_body! {
    /// `POST /users/me/avatar`: what the upload will be.
    pub struct AvatarUploadRequest {
        /// `image/jpeg`, `image/png` or `image/webp`: the upload's
        /// `Content-Type`, bound by the form's policy.
        pub content_type: AvatarContentType,
        /// The file's size in bytes, 1 to 5242880: the form admits no
        /// larger file.
        pub size: AvatarSize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::avatar::MAX_AVATAR_BYTES;
    use crate::domain::request::RequestBody;
    use crate::domain::{ErrorCode, FieldErrors};
    use serde_json::{json, Value};

    fn parse(value: Value) -> Result<AvatarUploadRequest, FieldErrors> {
        AvatarUploadRequest::from_fields(value.as_object().unwrap())
    }

    #[test]
    fn a_request_names_a_type_and_a_size_within_the_limit() {
        let request = parse(json!({"content_type": "image/png", "size": 1000})).unwrap();
        assert_eq!(request.content_type, AvatarContentType::Png);
        assert_eq!(request.size.bytes(), 1000);
        let errors =
            parse(json!({"content_type": "image/gif", "size": MAX_AVATAR_BYTES + 1})).unwrap_err();
        assert!(errors.has("content_type") && errors.has("size"));
        let errors = parse(json!({})).unwrap_err();
        assert_eq!(errors.codes("size"), [ErrorCode::Required]);
        assert!(parse(json!({"content_type": "image/png", "size": 0})).is_err());
        assert!(parse(json!({"content_type": "image/png", "size": "5"})).is_err());
    }
}
