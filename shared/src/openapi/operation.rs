//! One route's operation, described the way this API behaves: the common
//! envelope on every JSON answer, the error envelope on every error status,
//! and the statuses that body parsing and authentication add.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::ToSchema;

use super::schemas::ErrorEnvelope;

pub const BEARER: &str = "bearerAuth";
pub const ADMIN: &str = "adminAuth";
const JSON: &str = "application/json";

/// An operation under construction. Responses are kept by status so that
/// a status added twice (a body's 400 and a rule's 400) is listed once.
pub struct Op {
    builder: OperationBuilder,
    responses: BTreeMap<u16, utoipa::openapi::Response>,
}

fn reference<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::new(Type::String))
}

impl Op {
    pub fn new(operation_id: &str, tag: &str, summary: &str, description: &str) -> Self {
        Self {
            builder: OperationBuilder::new()
                .operation_id(Some(operation_id))
                .tag(tag)
                .summary(Some(summary))
                .description(Some(description)),
            responses: BTreeMap::new(),
        }
    }

    /// Needs `Authorization: Bearer <access token>`; without a valid one
    /// the answer is 401 with `WWW-Authenticate`.
    pub fn bearer(mut self) -> Self {
        self.builder = self
            .builder
            .security(SecurityRequirement::new(BEARER, Vec::<String>::new()));
        self.error_with_header(
            401,
            "No, an invalid, an expired or an ended session's access token \
             (`not_authenticated`, `token_invalid`, `token_expired`).",
            "WWW-Authenticate",
            "`Bearer realm=\"users-service\"`, with `error=\"invalid_token\"` for a bad token.",
        )
    }

    /// An operators' route: IAM (SigV4) on AWS, the admin token locally.
    pub fn admin(mut self) -> Self {
        self.builder = self
            .builder
            .security(SecurityRequirement::new(ADMIN, Vec::<String>::new()));
        self.error(401, "No credentials (`not_authenticated`).")
            .error(
                403,
                "Credentials that are not an operator's: a user's access token, a wrong admin \
             token (`forbidden`). On AWS, API Gateway refuses an unsigned or unauthorised \
             call itself.",
            )
    }

    /// A cursor-paged list: the envelope with `{limit, next_cursor}`.
    pub fn cursor_page<T: ToSchema>(self, message: &str, example: Value) -> Self {
        let schema = envelope(
            reference::<T>(),
            Some(reference::<crate::http::pagination::CursorMeta>()),
        );
        let example = json!({"success": true, "message": message, "data": example,
            "meta": {"limit": 20, "next_cursor": null}});
        self.json_response(200, message, schema, example)
    }

    /// An optional text query parameter.
    pub fn query_text(mut self, name: &str, description: &str) -> Self {
        self.builder = self.builder.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(string_schema())),
        );
        self
    }

    /// A JSON object body; what the body parser refuses comes with it.
    pub fn body<T: ToSchema>(self, example: Value) -> Self {
        self.json_body::<T>(Required::True, example)
    }

    /// A JSON object body that may be left out (an empty body is `{}`).
    pub fn optional_body<T: ToSchema>(self, example: Value) -> Self {
        self.json_body::<T>(Required::False, example)
    }

    fn json_body<T: ToSchema>(mut self, required: Required, example: Value) -> Self {
        let content = ContentBuilder::new()
            .schema(Some(reference::<T>()))
            .example(Some(example))
            .build();
        self.builder = self.builder.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(required))
                .content(JSON, content)
                .build(),
        ));
        self.bodyless_action()
    }

    /// An action that takes no fields: a body may still be sent (empty, or
    /// `{}`), so the parser's refusals apply.
    pub fn bodyless_action(self) -> Self {
        self.error(
            400,
            "Validation failed (every failing field at once), or malformed JSON (`invalid_json`).",
        )
        .error(413, "The body is over 64 KiB (`payload_too_large`).")
        .error(415, "The body is not JSON (`unsupported_media_type`).")
    }

    /// A path parameter (the route's only one).
    pub fn path_parameter(self, name: &str, description: &str) -> Self {
        self.path_with(name, description, string_schema().min_length(Some(1)))
    }

    /// A path parameter whose values match `pattern`.
    pub fn path_pattern(self, name: &str, description: &str, pattern: &str) -> Self {
        self.path_with(name, description, string_schema().pattern(Some(pattern)))
    }

    /// A path parameter that takes one of `values` (anything else is 404).
    pub fn path_choice(self, name: &str, description: &str, values: &[&str]) -> Self {
        let schema = string_schema().enum_values(Some(values.iter().copied()));
        self.path_with(name, description, schema)
    }

    fn path_with(mut self, name: &str, description: &str, schema: ObjectBuilder) -> Self {
        self.builder = self.builder.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(schema)),
        );
        self
    }

    /// An optional whole-number query parameter.
    pub fn query_number(
        mut self,
        name: &str,
        description: &str,
        minimum: u64,
        maximum: u64,
    ) -> Self {
        self.builder = self.builder.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(SchemaType::new(Type::Integer))
                        .minimum(Some(minimum))
                        .maximum(Some(maximum)),
                )),
        );
        self
    }

    /// A success in the envelope: `{success: true, message, data}`.
    pub fn data<T: ToSchema>(self, status: u16, message: &str, example: Value) -> Self {
        let schema = envelope(reference::<T>(), None);
        let example = json!({"success": true, "message": message, "data": example});
        self.json_response(status, message, schema, example)
    }

    /// A page of a list: the envelope with the page `meta`.
    pub fn page<T: ToSchema>(self, message: &str, example: Value, meta: Value) -> Self {
        let schema = envelope(
            reference::<T>(),
            Some(reference::<crate::http::pagination::PageMeta>()),
        );
        let example = json!({"success": true, "message": message, "data": example, "meta": meta});
        self.json_response(200, message, schema, example)
    }

    /// A document whose format is fixed elsewhere: no envelope.
    pub fn bare<T: ToSchema>(self, status: u16, description: &str, example: Value) -> Self {
        self.json_response(status, description, reference::<T>(), example)
    }

    /// A non-JSON answer (HTML, scripts, style sheets).
    pub fn text(mut self, status: u16, description: &str, content_types: &[&str]) -> Self {
        let mut response = ResponseBuilder::new().description(description);
        for content_type in content_types {
            response = response.content(
                *content_type,
                ContentBuilder::new().schema(Some(string_schema())).build(),
            );
        }
        self.responses.insert(status, response.build());
        self
    }

    fn json_response(
        mut self,
        status: u16,
        description: &str,
        schema: impl Into<RefOr<Schema>>,
        example: Value,
    ) -> Self {
        let content = ContentBuilder::new()
            .schema(Some(schema))
            .example(Some(example))
            .build();
        self.responses.insert(
            status,
            ResponseBuilder::new()
                .description(description)
                .content(JSON, content)
                .build(),
        );
        self
    }

    /// An error status in the error envelope.
    pub fn error(mut self, status: u16, description: &str) -> Self {
        self.responses
            .insert(status, error_response(description).build());
        self
    }

    /// An error that tells the client when to retry (429, 423, 503).
    pub fn retry_later(self, status: u16, description: &str) -> Self {
        self.error_with_header(
            status,
            description,
            "Retry-After",
            "Seconds to wait before trying again.",
        )
    }

    fn error_with_header(
        mut self,
        status: u16,
        description: &str,
        header: &str,
        header_description: &str,
    ) -> Self {
        let header_schema = HeaderBuilder::new()
            .schema(string_schema())
            .description(Some(header_description))
            .build();
        self.responses.insert(
            status,
            error_response(description)
                .header(header, header_schema)
                .build(),
        );
        self
    }

    /// A route that reads the table: a dependency that is down or
    /// throttling is a 503 worth retrying.
    pub fn uses_storage(self) -> Self {
        self.retry_later(
            503,
            "A dependency is unavailable or throttling (`unavailable`); retry shortly.",
        )
    }

    /// Every route may fail on the server's side; the answer tells nothing
    /// of the cause.
    pub fn build(self) -> Operation {
        let this = self.error(
            500,
            "A server fault (`server_error` under `system`); nothing of the cause is revealed.",
        );
        let mut builder = this.builder;
        for (status, response) in this.responses {
            builder = builder.response(status.to_string(), response);
        }
        builder.build()
    }
}

fn error_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        JSON,
        ContentBuilder::new()
            .schema(Some(reference::<ErrorEnvelope>()))
            .build(),
    )
}

/// `{success: true, message, data, meta?}` around one route's `data`.
fn envelope(data: RefOr<Schema>, meta: Option<RefOr<Schema>>) -> ObjectBuilder {
    let mut object = ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Object))
        .property(
            "success",
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::Boolean))
                .enum_values(Some([true])),
        )
        .required("success")
        .property("message", string_schema())
        .required("message")
        .property("data", data)
        .required("data");
    if let Some(meta) = meta {
        object = object.property("meta", meta).required("meta");
    }
    object
}

/// The `PathItem` method of a route-table method name.
pub fn http_method(method: &str) -> HttpMethod {
    match method {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        other => panic!("the route table has a method the spec cannot name: {other}"),
    }
}
