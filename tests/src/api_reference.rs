//! `docs/API.md`, the API reference in Markdown, rendered from the OpenAPI
//! document the service serves (so the two cannot disagree: a test holds
//! the committed file to this rendering; `UPDATE_DOCS=1` rewrites it).

use std::fmt::Write as _;

use serde_json::Value;

/// The Markdown reference of `document` (an OpenAPI 3.1 document).
pub fn render(document: &Value) -> String {
    let mut out = String::new();
    let info = &document["info"];
    let _ = writeln!(out, "# API reference\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the OpenAPI document (GET /openapi.json) by tests/src/api_reference.rs; \
         `UPDATE_DOCS=1 cargo test -p integration-tests --test suite api_reference` rewrites it. -->\n"
    );
    let _ = writeln!(out, "{}\n", text(&info["description"]));
    for tag in document["tags"].as_array().into_iter().flatten() {
        let name = text(&tag["name"]);
        let _ = writeln!(out, "## {name}: {}\n", text(&tag["description"]));
        for (path, methods) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in methods.as_object().into_iter().flatten() {
                let tagged = operation["tags"]
                    .as_array()
                    .is_some_and(|tags| tags.iter().any(|t| t == &tag["name"]));
                if tagged {
                    operation_section(&mut out, method, path, operation);
                }
            }
        }
    }
    let _ = writeln!(out, "## Schemas\n");
    for (name, schema) in document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        schema_section(&mut out, name, schema);
    }
    out
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().replace('\n', " ")
}

fn operation_section(out: &mut String, method: &str, path: &str, operation: &Value) {
    let _ = writeln!(
        out,
        "### `{} {path}`: {}\n",
        method.to_uppercase(),
        text(&operation["summary"])
    );
    let description = text(&operation["description"]);
    if !description.is_empty() {
        let _ = writeln!(out, "{description}\n");
    }
    if operation["security"]
        .as_array()
        .is_some_and(|s| !s.is_empty())
    {
        let _ = writeln!(out, "Needs `Authorization: Bearer <access token>`.\n");
    }
    let body = &operation["requestBody"]["content"]["application/json"];
    if !body.is_null() {
        let _ = writeln!(out, "Request body: {}\n", schema_name(&body["schema"]));
        if !body["example"].is_null() {
            let _ = writeln!(
                out,
                "```json\n{}\n```\n",
                serde_json::to_string_pretty(&body["example"]).unwrap_or_default()
            );
        }
    }
    let _ = writeln!(out, "| status | meaning |\n| --- | --- |");
    for (status, response) in operation["responses"].as_object().into_iter().flatten() {
        let _ = writeln!(
            out,
            "| {status} | {} |",
            text(&response["description"]).replace('|', "\\|")
        );
    }
    let _ = writeln!(out);
}

/// `Name` for a reference, else the inline schema's type.
fn schema_name(schema: &Value) -> String {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            format!("[`{name}`](#{})", name.to_lowercase())
        }
        None => format!("`{}`", type_of(schema)),
    }
}

fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return options.iter().map(type_of).collect::<Vec<_>>().join(" or ");
    }
    match &schema["type"] {
        Value::String(kind) if kind == "array" => format!("{}[]", type_of(&schema["items"])),
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".to_owned(),
    }
}

/// What a property's schema says beyond its type: limits, pattern, values.
fn rules(schema: &Value) -> String {
    let mut rules = Vec::new();
    for (key, label) in [
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("format", "format"),
    ] {
        if let Some(value) = schema.get(key) {
            rules.push(format!("{label} {value}"));
        }
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        rules.push(format!("pattern `{pattern}`"));
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        rules.push(format!("one of {}", values.join(", ")));
    }
    let description = text(&schema["description"]);
    if !description.is_empty() {
        rules.push(description);
    }
    rules.join("; ").replace('|', "\\|")
}

fn schema_section(out: &mut String, name: &str, schema: &Value) {
    let _ = writeln!(out, "### {name}\n");
    let description = text(&schema["description"]);
    if !description.is_empty() {
        let _ = writeln!(out, "{description}\n");
    }
    if let Some(parts) = schema["allOf"].as_array() {
        // A flattened field (`#[serde(flatten)]`): the named schemas'
        // fields, then the inline part's own.
        let named: Vec<String> = parts
            .iter()
            .filter(|part| part.get("properties").is_none())
            .map(|part| format!("`{}`", type_of(part)))
            .collect();
        let _ = writeln!(out, "The fields of {}, and:\n", named.join(" and "));
        for part in parts.iter().filter(|part| part.get("properties").is_some()) {
            property_table(out, part);
        }
        return;
    }
    if schema["properties"].is_object() {
        property_table(out, schema);
    } else {
        let _ = writeln!(out, "Type: `{}`. {}\n", type_of(schema), rules(schema));
    }
}

fn property_table(out: &mut String, schema: &Value) {
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let _ = writeln!(
        out,
        "| field | type | required | rules |\n| --- | --- | --- | --- |"
    );
    for (field, property) in properties {
        let _ = writeln!(
            out,
            "| `{field}` | `{}` | {} | {} |",
            type_of(property),
            if required.contains(&field.as_str()) {
                "yes"
            } else {
                "no"
            },
            rules(property)
        );
    }
    let _ = writeln!(out);
}
