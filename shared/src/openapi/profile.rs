//! The document as one deployment serves it: the sign-up, profile-update
//! and user schemas cut to its `PROFILE_FIELDS` (a field that is off is
//! left out, an optional one is not required and may be null, a required
//! one is required).

use serde_json::{json, Value};

use crate::domain::{FieldRule, ProfileField, ProfileFields};
use crate::usecases::payments::CreditPacks;

/// Request schemas: what a client sends.
const REQUESTS: [&str; 2] = ["SignUpRequest", "ProfileUpdateRequest"];
/// The user object's schemas (`UserView` is flattened into the others).
const VIEWS: [&str; 1] = ["UserView"];

/// The whole document, as `GET /openapi.json` serves it under `fields`.
/// The document a deployment serves: its profile fields, and the packs it
/// sells as the checkout's `pack` values (names in `enum`; credits and
/// price in `x-packs`, which the account page's "Buy credits" reads).
pub fn deployment_document(fields: &ProfileFields, packs: &CreditPacks) -> Value {
    let mut document = document_json(fields);
    if let Some(pack) = document["components"]["schemas"]["CheckoutRequest"]["properties"]
        .get_mut("pack")
        .and_then(Value::as_object_mut)
    {
        pack.insert("enum".into(), json!(packs.names()));
        let listed: Vec<Value> = packs
            .iter()
            .map(|p| {
                json!({"name": p.name, "credits": p.credits, "price_cents": p.price_cents,
                       "currency": p.currency})
            })
            .collect();
        pack.insert("x-packs".into(), Value::Array(listed));
    }
    document
}

pub fn document_json(fields: &ProfileFields) -> Value {
    // A document that does not serialise is a bug every test would see.
    let mut document =
        serde_json::to_value(super::document()).expect("the OpenAPI document serialises");
    let schemas = &mut document["components"]["schemas"];
    for name in REQUESTS {
        if let Some(schema) = schemas.get_mut(name) {
            // Only sign-up requires; a `PATCH` names what it changes.
            cut(schema, fields, name == "SignUpRequest");
        }
    }
    for name in VIEWS {
        if let Some(schema) = schemas.get_mut(name) {
            cut(schema, fields, true);
        }
    }
    if let Some(sign_up) = schemas.get_mut("SignUpRequest") {
        either_confirmation(sign_up);
    }
    document
}

fn cut(schema: &mut Value, fields: &ProfileFields, requires: bool) {
    let is_request = requires_input(schema);
    for field in ProfileField::ALL {
        let name = field.name();
        let rule = fields.rule(field);
        if let Some(properties) = schema["properties"].as_object_mut() {
            match rule {
                // `username` stays in the user object: null for email-only
                // accounts.
                FieldRule::Off if field == ProfileField::Username && !is_request => {}
                FieldRule::Off => {
                    properties.remove(name);
                }
                FieldRule::Optional => {
                    if let Some(property) = properties.get_mut(name) {
                        nullable(property);
                    }
                }
                FieldRule::Required => {}
            }
        }
        let present = schema["properties"].get(name).is_some();
        let required = schema
            .as_object_mut()
            .map(|object| object.entry("required").or_insert_with(|| json!([])));
        if let Some(Value::Array(list)) = required {
            list.retain(|v| v != name);
            if requires && rule == FieldRule::Required && present {
                list.push(json!(name));
            }
        }
    }
}

/// Whether `schema` is a request (it has a `password` or `current_password`).
fn requires_input(schema: &Value) -> bool {
    let properties = &schema["properties"];
    properties.get("password").is_some() || properties.get("current_password").is_some()
}

/// `type: "string"` becomes `type: ["string", "null"]`.
fn nullable(property: &mut Value) {
    if let Some(Value::String(kind)) = property.get("type").cloned() {
        property["type"] = json!([kind, "null"]);
    }
}

/// `confirm_password` or `password_confirm`: one of the two.
fn either_confirmation(schema: &mut Value) {
    if let Some(Value::Array(list)) = schema.get_mut("required") {
        list.retain(|v| v != "confirm_password");
    }
    schema["anyOf"] = json!([
        { "required": ["confirm_password"] },
        { "required": ["password_confirm"] }
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_document_lists_the_packs_on_sale() {
        let packs = CreditPacks::parse("starter:100:500:usd,pro:1000:4000:eur").unwrap();
        let document = deployment_document(&ProfileFields::default(), &packs);
        let pack = &document["components"]["schemas"]["CheckoutRequest"]["properties"]["pack"];
        assert_eq!(pack["enum"], json!(["starter", "pro"]));
        assert_eq!(
            pack["x-packs"][1],
            json!({"name": "pro", "credits": 1000, "price_cents": 4000, "currency": "eur"})
        );
    }

    fn schema(fields: &ProfileFields, name: &str) -> Value {
        document_json(fields)["components"]["schemas"][name].clone()
    }

    fn required(schema: &Value) -> Vec<String> {
        let mut list: Vec<String> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        list.sort();
        list
    }

    #[test]
    fn the_default_requires_todays_fields() {
        let sign_up = schema(&ProfileFields::default(), "SignUpRequest");
        assert_eq!(
            required(&sign_up),
            [
                "designation",
                "email",
                "mobileNo",
                "password",
                "personalNo",
                "phoneNo",
                "rank",
                "unitname",
                "username"
            ]
        );
        for off in ["first_name", "last_name", "birth_date"] {
            assert!(sign_up["properties"].get(off).is_none(), "{off}");
        }
        let user = schema(&ProfileFields::default(), "UserView");
        assert!(required(&user).contains(&"rank".to_owned()), "{user}");
        assert!(user["properties"].get("first_name").is_none());
    }

    #[test]
    fn email_only_with_names() {
        let fields = ProfileFields::parse(
            "username:off,rank:off,unitname:off,designation:off,mobileNo:off,personalNo:off,\
             phoneNo:off,first_name:required,last_name:required,birth_date:optional",
        )
        .unwrap();
        let sign_up = schema(&fields, "SignUpRequest");
        assert_eq!(
            required(&sign_up),
            ["email", "first_name", "last_name", "password"]
        );
        assert!(sign_up["properties"].get("username").is_none());
        assert!(sign_up["properties"].get("rank").is_none());
        assert_eq!(
            sign_up["properties"]["birth_date"]["type"],
            json!(["string", "null"])
        );
        let user = schema(&fields, "UserView");
        assert!(user["properties"].get("username").is_some(), "null there");
        assert!(user["properties"].get("rank").is_none());
    }
}
