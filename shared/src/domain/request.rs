//! Request bodies declared once. A request is a struct of typed fields (see
//! [`request_body!`](crate::request_body)): the parser reads each field by
//! its type, and the OpenAPI document describes it by the same type, so a
//! rule or a limit is written in one place. `T` is a required field,
//! `Option<T>` an optional one (missing and `null` alike), and `T`'s
//! [`FieldValue`] says how a present JSON value becomes one; under the
//! `openapi` feature its `PartialSchema` states the same rules.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::errors::{FieldError, FieldErrors};

/// What a present, non-null JSON value read as.
pub enum Reading<T> {
    /// A value.
    Value(T),
    /// Nothing in it (`""`, or only spaces where the type trims): an
    /// optional field reads it as absent, a required one refuses it as
    /// blank (form clients send `""` for an empty input).
    Empty,
    /// Refused; the reasons are in the errors.
    Refused,
}

impl<T> Reading<T> {
    /// A parse result: its error is recorded under `name`.
    pub fn from_result(
        result: Result<T, FieldError>,
        name: &str,
        errors: &mut FieldErrors,
    ) -> Self {
        match errors.collect(name, result) {
            Some(value) => Self::Value(value),
            None => Self::Refused,
        }
    }

    /// A value read by another type, parsed further into this one.
    pub fn and_then<U>(
        self,
        name: &str,
        errors: &mut FieldErrors,
        parse: impl FnOnce(T) -> Result<U, FieldError>,
    ) -> Reading<U> {
        match self {
            Self::Value(value) => Reading::from_result(parse(value), name, errors),
            Self::Empty => Reading::Empty,
            Self::Refused => Reading::Refused,
        }
    }
}

/// A type a request field can hold.
pub trait FieldValue: Sized {
    /// Reads a present, non-null `value` of the field `name`, adding what
    /// is wrong with it to `errors` (under `name`, or `name.part` for the
    /// parts of an object).
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self>;
}

/// How a request's field takes its value: a `T` must be sent, an
/// `Option<T>` may be missing or `null`.
pub trait RequestField: Sized {
    /// `None` when the field is refused (the reason is in `errors`).
    fn take(value: Option<&Value>, name: &str, errors: &mut FieldErrors) -> Option<Self>;
}

impl<T: FieldValue> RequestField for T {
    fn take(value: Option<&Value>, name: &str, errors: &mut FieldErrors) -> Option<Self> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            errors.add(name, FieldError::required());
            return None;
        };
        read_sent(value, name, errors)
    }
}

/// A sent value that must hold something: empty is refused as blank.
fn read_sent<T: FieldValue>(value: &Value, name: &str, errors: &mut FieldErrors) -> Option<T> {
    match T::read(value, name, errors) {
        Reading::Value(value) => Some(value),
        Reading::Empty => {
            errors.add(name, FieldError::blank());
            None
        }
        Reading::Refused => None,
    }
}

impl<T: FieldValue> RequestField for Option<T> {
    fn take(value: Option<&Value>, name: &str, errors: &mut FieldErrors) -> Option<Self> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Some(None);
        };
        match T::read(value, name, errors) {
            Reading::Value(value) => Some(Some(value)),
            Reading::Empty => Some(None),
            Reading::Refused => None,
        }
    }
}

/// A field of a partial update that may be left out but, when sent, must
/// hold a value: `null` is read like any other value, which `T` refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given<T>(pub Option<T>);

impl<T: FieldValue> RequestField for Given<T> {
    fn take(value: Option<&Value>, name: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value {
            None => Some(Self(None)),
            Some(value) => read_sent(value, name, errors).map(|v| Self(Some(v))),
        }
    }
}

/// A field of a partial update: left out, cleared with `null`, or set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch<T> {
    Keep,
    Clear,
    Set(T),
}

impl<T: FieldValue> RequestField for Patch<T> {
    fn take(value: Option<&Value>, name: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value {
            None => Some(Self::Keep),
            Some(Value::Null) => Some(Self::Clear),
            Some(value) => T::take(Some(value), name, errors).map(Self::Set),
        }
    }
}

/// Adds an error for every field of `fields` not in `known` (for partial
/// updates, where a misspelt name would otherwise change nothing quietly).
pub fn refuse_unknown(
    fields: &Map<String, Value>,
    known: &[&str],
    message: &'static str,
    errors: &mut FieldErrors,
) {
    for name in fields.keys().filter(|name| !known.contains(&name.as_str())) {
        errors.add(name, FieldError::invalid(message));
    }
}

/// A request body read from a JSON object, every refused field reported at
/// once. Fields the request does not declare are ignored, as DRF does.
pub trait RequestBody: Sized {
    /// Reads every declared field; `Err` holds each failure.
    fn from_fields(fields: &Map<String, Value>) -> Result<Self, FieldErrors>;
}

/// Declares a request body: the struct, its parser ([`RequestBody`]) and,
/// under the `openapi` feature, its schema, built from the fields' types
/// (required or not, nullable or not, and each type's own rules). Field
/// names are the JSON names; doc comments become the descriptions. A rule
/// across fields goes after the struct as `check = path;`: a
/// `fn(&Map<String, Value>, &mut FieldErrors)` run on the body after the
/// fields, so its failures are reported with theirs.
#[macro_export]
macro_rules! request_body {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            $(
                $(#[doc = $field_doc:literal])*
                pub $field:ident : $ty:ty
            ),* $(,)?
        }
        $(check = $check:path;)?
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug)]
        pub struct $name {
            $(
                $(#[doc = $field_doc])*
                pub $field: $ty,
            )*
        }

        impl $name {
            /// The JSON names of the fields.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        impl $crate::domain::request::RequestBody for $name {
            fn from_fields(
                fields: &serde_json::Map<String, serde_json::Value>,
            ) -> Result<Self, $crate::domain::errors::FieldErrors> {
                let mut errors = $crate::domain::errors::FieldErrors::new();
                $(
                    let $field = <$ty as $crate::domain::request::RequestField>::take(
                        fields.get(stringify!($field)),
                        stringify!($field),
                        &mut errors,
                    );
                )*
                $($check(fields, &mut errors);)?
                match ($($field,)*) {
                    ($(Some($field),)*) if errors.is_empty() => Ok(Self { $($field),* }),
                    _ => Err(errors),
                }
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use $crate::domain::request::schema::{object_schema, FieldSchema, Property};
                object_schema(
                    &[$($doc),*],
                    vec![$(Property {
                        name: stringify!($field),
                        required: <$ty as FieldSchema>::REQUIRED,
                        schema: <$ty as FieldSchema>::field_schema(),
                        doc: &[$($field_doc),*],
                    }),*],
                )
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

/// A string, trimmed (as DRF's `CharField` does); blank reads as empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FieldValue for Text {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_trimmed(value, name, errors, |text| Ok(Self(text.to_owned())))
    }
}

/// A string, trimmed; sent blank it is refused even where the field is
/// optional (the client learns which field was empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonBlankText(pub String);

impl NonBlankText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FieldValue for NonBlankText {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_string(value, name, errors, |text| match text.trim() {
            "" => Err(FieldError::blank()),
            trimmed => Ok(Self(trimmed.to_owned())),
        })
    }
}

/// A string kept exactly as sent, spaces included (passwords, tokens);
/// `""` is refused as blank, even where the field is optional. Never
/// printed.
pub struct Secret(SecretString);

impl Secret {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl FieldValue for Secret {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        read_string(value, name, errors, |text| match text {
            "" => Err(FieldError::blank()),
            sent => Ok(Self(SecretString::from(sent))),
        })
    }
}

/// A boolean as JSON writes it, nothing else (partial updates, where a
/// string is more likely a mistake than a form's spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonBool(pub bool);

impl FieldValue for JsonBool {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let result = value
            .as_bool()
            .map(Self)
            .ok_or_else(|| FieldError::invalid("Must be a boolean."));
        Reading::from_result(result, name, errors)
    }
}

/// Booleans as JSON sends them, and the string and number spellings DRF's
/// `BooleanField` accepts (`"true"`, `"0"`, `1`…), since form-driven
/// clients send them.
impl FieldValue for bool {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let parsed = match value {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_u64() {
                Some(1) => Some(true),
                Some(0) => Some(false),
                _ => None,
            },
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
                "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        };
        let result = parsed.ok_or_else(|| FieldError::invalid("Must be a valid boolean."));
        Reading::from_result(result, name, errors)
    }
}

pub(crate) fn not_a_string() -> FieldError {
    FieldError::invalid("Not a valid string.")
}

/// A string as sent, given to `parse` (which decides about blanks); any
/// other JSON type is not a string.
pub fn read_string<T>(
    value: &Value,
    name: &str,
    errors: &mut FieldErrors,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Reading<T> {
    let result = match value {
        Value::String(text) => parse(text),
        _ => Err(not_a_string()),
    };
    Reading::from_result(result, name, errors)
}

/// A string kept exactly as sent (codes, tokens), given to `parse`; `""`
/// is empty.
pub fn read_exact<T>(
    value: &Value,
    name: &str,
    errors: &mut FieldErrors,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Reading<T> {
    match value {
        Value::String(text) if text.is_empty() => Reading::Empty,
        _ => read_string(value, name, errors, parse),
    }
}

/// A string trimmed (as DRF's `CharField` does), given to `parse`; blank
/// is empty.
pub fn read_trimmed<T>(
    value: &Value,
    name: &str,
    errors: &mut FieldErrors,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Reading<T> {
    match value {
        Value::String(text) if text.trim().is_empty() => Reading::Empty,
        _ => read_string(value, name, errors, |text| parse(text.trim())),
    }
}

/// Implements the OpenAPI schema of a request field's type (under the
/// `openapi` feature): `$schema` is built with the helpers of
/// [`schema`](crate::domain::request::schema) in scope.
#[macro_export]
macro_rules! field_schema {
    ($ty:ty => $schema:expr) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                #[allow(unused_imports)]
                use $crate::domain::request::schema::*;
                ($schema).into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {}
    };
}

/// Schemas of the value types above, and of the requests built from them.
#[cfg(feature = "openapi")]
pub mod schema {
    use serde_json::Value;
    pub use utoipa::openapi::schema::{
        KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
    };
    pub use utoipa::openapi::RefOr;
    use utoipa::PartialSchema;

    use super::{FieldValue, Given, Patch};

    /// How a request field appears in the document.
    pub trait FieldSchema {
        /// Whether the document lists the field as required.
        const REQUIRED: bool;
        fn field_schema() -> RefOr<Schema>;
    }

    impl<T: FieldValue + PartialSchema> FieldSchema for T {
        const REQUIRED: bool = true;
        fn field_schema() -> RefOr<Schema> {
            T::schema()
        }
    }

    impl<T: FieldValue + PartialSchema> FieldSchema for Option<T> {
        const REQUIRED: bool = false;
        fn field_schema() -> RefOr<Schema> {
            nullable(T::schema())
        }
    }

    impl<T: FieldValue + PartialSchema> FieldSchema for Given<T> {
        const REQUIRED: bool = false;
        fn field_schema() -> RefOr<Schema> {
            T::schema()
        }
    }

    impl<T: FieldValue + PartialSchema> FieldSchema for Patch<T> {
        const REQUIRED: bool = false;
        fn field_schema() -> RefOr<Schema> {
            nullable(T::schema())
        }
    }

    /// A field of a request's schema.
    pub struct Property {
        pub name: &'static str,
        pub required: bool,
        pub schema: RefOr<Schema>,
        /// The field's doc comment, line by line.
        pub doc: &'static [&'static str],
    }

    /// A request's schema: its properties in declaration order, the
    /// required ones listed, descriptions from the doc comments (a field's
    /// own replaces its type's).
    pub fn object_schema(doc: &[&str], properties: Vec<Property>) -> RefOr<Schema> {
        let mut object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(description(doc));
        for Property {
            name,
            required,
            mut schema,
            doc,
        } in properties
        {
            if let (Some(text), RefOr::T(Schema::Object(property))) =
                (description(doc), &mut schema)
            {
                property.description = Some(text);
            }
            object = object.property(name, schema);
            if required {
                object = object.required(name);
            }
        }
        object.into()
    }

    /// Doc-comment lines as one description, as utoipa joins them.
    fn description(lines: &[&str]) -> Option<String> {
        let text = lines
            .iter()
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n");
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// The schema admitting `null` too.
    fn nullable(schema: RefOr<Schema>) -> RefOr<Schema> {
        match schema {
            RefOr::T(Schema::Object(mut object)) => {
                object.schema_type = match object.schema_type {
                    SchemaType::Type(kind) => SchemaType::Array(vec![kind, Type::Null]),
                    SchemaType::Array(mut kinds) => {
                        if !kinds.contains(&Type::Null) {
                            kinds.push(Type::Null);
                        }
                        SchemaType::Array(kinds)
                    }
                    SchemaType::AnyValue => SchemaType::AnyValue,
                };
                if let Some(values) = object.enum_values.as_mut() {
                    values.push(Value::Null);
                }
                RefOr::T(Schema::Object(object))
            }
            other => OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .item(other)
                .into(),
        }
    }

    /// A string's schema, to add rules to.
    pub fn string() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::String)
    }

    /// An integer's schema, to add bounds to.
    pub fn integer() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::Integer)
    }

    /// A boolean's schema.
    pub fn boolean() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::Boolean)
    }
}

crate::field_schema!(Text => string());
crate::field_schema!(NonBlankText => string().pattern(Some(r"\S")));
crate::field_schema!(Secret => string().min_length(Some(1)));
crate::field_schema!(JsonBool => boolean());

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;
    use serde_json::json;

    crate::request_body! {
        /// A request of every kind of field.
        pub struct Sample {
            pub text: Text,
            pub note: Option<Text>,
            pub word: Option<NonBlankText>,
            pub secret: Secret,
            pub other_secret: Option<Secret>,
            pub flag: Option<bool>,
        }
    }

    fn parse(value: Value) -> Result<Sample, FieldErrors> {
        Sample::from_fields(value.as_object().unwrap())
    }

    #[test]
    fn missing_null_wrong_type_and_blank_stay_distinct() {
        let errors = parse(json!({"text": null, "secret": 5, "flag": "maybe"})).unwrap_err();
        assert_eq!(errors.codes("text"), [ErrorCode::Required]);
        assert_eq!(
            errors.get("text").unwrap()[0].message,
            "This field is required."
        );
        assert_eq!(errors.codes("secret"), [ErrorCode::Invalid]);
        assert_eq!(errors.codes("flag"), [ErrorCode::Invalid]);
        assert!(!errors.has("note"), "optional and missing is fine");

        let errors = parse(json!({"text": "   ", "secret": "", "other_secret": "", "word": " "}))
            .unwrap_err();
        assert_eq!(errors.codes("word"), [ErrorCode::Required], "sent blank");
        assert_eq!(
            errors.get("text").unwrap()[0].message,
            "This field may not be blank."
        );
        assert_eq!(errors.codes("secret"), [ErrorCode::Required]);
        assert_eq!(
            errors.codes("other_secret"),
            [ErrorCode::Required],
            "sent empty"
        );
    }

    #[test]
    fn values_are_trimmed_or_kept_as_sent() {
        let sample = parse(json!({
            "text": " a ", "note": "  ", "secret": " s ", "flag": "Off", "other": [1]
        }))
        .unwrap();
        assert_eq!(sample.text.as_str(), "a");
        assert_eq!(sample.note, None, "a blank optional text is absent");
        assert_eq!(sample.secret.expose(), " s ");
        assert_eq!(sample.flag, Some(false));
        assert_eq!((&sample.word, sample.other_secret.is_none()), (&None, true));
        assert_eq!(
            Sample::FIELDS,
            ["text", "note", "word", "secret", "other_secret", "flag"]
        );
        assert!(
            !format!("{sample:?}").contains(" s "),
            "secrets are not printed"
        );
    }
}
