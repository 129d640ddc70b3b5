//! The API's throttles are operator settings sized for the promised load
//! (issue #17, item 13): every stage and route throttle is a template
//! parameter, and the defaults admit at least Cognito's 50 sign-ups/s;
//! logs expire and the key secrets outlive the stack (item 12).

use serde_yaml::Value;

use crate::routes_and_events::{untag, workspace_file};

fn template() -> Value {
    let text = std::fs::read_to_string(workspace_file("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template parses")
}

/// The parameter a throttle setting references with `!Ref`.
fn referenced(setting: &Value) -> String {
    match setting {
        Value::Tagged(tagged) if tagged.tag == "!Ref" => {
            tagged.value.as_str().expect("a parameter name").to_owned()
        }
        other => panic!("a throttle is fixed in the template: {other:?}"),
    }
}

fn default_of(template: &Value, parameter: &str) -> u64 {
    untag(&template["Parameters"][parameter]["Default"])
        .as_u64()
        .unwrap_or_else(|| panic!("{parameter} has a numeric default"))
}

#[test]
fn every_throttle_is_a_parameter_sized_for_the_load() {
    let template = template();
    let api = &template["Resources"]["UsersApi"]["Properties"];
    let mut settings = vec![("default".to_owned(), &api["DefaultRouteSettings"])];
    for (route, setting) in api["RouteSettings"].as_mapping().expect("route settings") {
        settings.push((route.as_str().unwrap().to_owned(), setting));
    }
    assert!(settings.len() > 5, "route throttles are declared");
    for (route, setting) in &settings {
        for limit in ["ThrottlingBurstLimit", "ThrottlingRateLimit"] {
            let parameter = referenced(&setting[limit]);
            assert!(
                default_of(&template, &parameter) >= 1,
                "{route}: {parameter}"
            );
        }
    }
    let sign_up = &api["RouteSettings"]["POST /auth/signup"];
    let rate = default_of(&template, &referenced(&sign_up["ThrottlingRateLimit"]));
    let burst = default_of(&template, &referenced(&sign_up["ThrottlingBurstLimit"]));
    assert!(rate >= 50, "sign-ups per second: {rate}");
    assert!(burst >= 100, "100+ concurrent sign-ups: {burst}");
}

/// Issue #17 item 12: every function logs to a log group of the stack with
/// a set retention, and the key secrets outlive the stack.
#[test]
fn logs_expire_and_key_secrets_are_retained() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("resources");
    let mut functions = 0;
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        functions += 1;
        let name = name.as_str().unwrap();
        let group = referenced(&resource["Properties"]["LoggingConfig"]["LogGroup"]);
        let group = &template["Resources"][group.as_str()];
        assert_eq!(
            group["Type"].as_str(),
            Some("AWS::Logs::LogGroup"),
            "{name}"
        );
        assert_eq!(
            referenced(&group["Properties"]["RetentionInDays"]),
            "LogRetentionDays",
            "{name}"
        );
    }
    assert!(functions > 10);
    for secret in ["SigningKeysSecret", "PhoneKeysSecret"] {
        let resource = &template["Resources"][secret];
        assert_eq!(
            resource["DeletionPolicy"].as_str(),
            Some("Retain"),
            "{secret}"
        );
        assert_eq!(
            resource["UpdateReplacePolicy"].as_str(),
            Some("Retain"),
            "{secret}"
        );
    }
}
