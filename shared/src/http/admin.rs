//! Who may call the `/admin/` routes, and who did.
//!
//! On AWS, API Gateway authorises those routes with IAM (`AWS_IAM` in the
//! template, SigV4-signed calls): a request reaches the function only when
//! its signer may `execute-api:Invoke` the route, and the request context
//! names the signer's ARN. [`IamGate`] only reads that ARN; it is the gate
//! every Lambda gets, because `Resources::from_env` never sets another.
//!
//! Local runs have no IAM: the local server (the `local-api` crate, which
//! no Lambda links) builds its own bearer-token gate and hands it over
//! with `Resources::with_admin_gate`. No configuration of a Lambda can
//! reach that constructor, so the token path cannot be turned on there.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use super::error::ApiError;
use crate::domain::errors::ErrorCode;

/// The operator behind an admin request: what the audit log records as
/// the actor (an IAM ARN, or `local-admin` in local runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub actor: String,
}

/// Decides whether a request comes from an operator.
pub trait AdminGate: Send + Sync {
    fn authorise(&self, request: &Request) -> Result<Operator, ApiError>;
}

/// The AWS gate: the caller's ARN from the IAM authoriser's context.
#[derive(Debug, Default, Clone, Copy)]
pub struct IamGate;

impl AdminGate for IamGate {
    fn authorise(&self, request: &Request) -> Result<Operator, ApiError> {
        let arn = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context
                .authorizer
                .as_ref()
                .and_then(|authorizer| authorizer.iam.as_ref())
                .and_then(|iam| iam.user_arn.clone()),
            _ => None,
        };
        // Without AWS_IAM on the route API Gateway sends no ARN: refuse
        // rather than trust an unauthorised caller.
        arn.filter(|arn| arn.starts_with("arn:"))
            .map(|actor| Operator { actor })
            .ok_or_else(forbidden)
    }
}

/// 401: no credentials at all. Says nothing about what would be accepted.
pub fn not_authenticated() -> ApiError {
    ApiError::general(
        StatusCode::UNAUTHORIZED,
        ErrorCode::NotAuthenticated,
        "Authentication credentials were not provided.",
        "Authentication credentials were not provided.",
    )
}

/// 403: credentials that are not an operator's (a user's token, a wrong
/// admin token, an unsigned call).
pub fn forbidden() -> ApiError {
    ApiError::general(
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
        "Forbidden",
        "You do not have permission to perform this action.",
    )
}

/// The gate a function uses: the one handed over, else IAM.
pub fn gate_or_iam(gate: Option<&Arc<dyn AdminGate>>) -> Arc<dyn AdminGate> {
    gate.cloned().unwrap_or_else(|| Arc::new(IamGate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::{
        ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerIamDescription,
        ApiGatewayV2httpRequestContext,
    };
    use lambda_http::Body;

    fn request(arn: Option<&str>) -> Request {
        let mut request = http::Request::builder()
            .uri("/admin/users")
            .body(Body::Empty)
            .unwrap();
        let mut context = ApiGatewayV2httpRequestContext::default();
        if let Some(arn) = arn {
            let mut iam = ApiGatewayRequestAuthorizerIamDescription::default();
            iam.user_arn = Some(arn.to_owned());
            let mut authorizer = ApiGatewayRequestAuthorizer::default();
            authorizer.iam = Some(iam);
            context.authorizer = Some(authorizer);
        }
        request
            .extensions_mut()
            .insert(RequestContext::ApiGatewayV2(context));
        request
    }

    #[test]
    fn the_iam_gate_takes_the_callers_arn() {
        let arn = "arn:aws:sts::123456789012:assumed-role/operators/alice";
        assert_eq!(IamGate.authorise(&request(Some(arn))).unwrap().actor, arn);
    }

    #[test]
    fn the_iam_gate_refuses_a_request_without_one() {
        assert_eq!(
            IamGate.authorise(&request(None)).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            IamGate
                .authorise(&request(Some("alice")))
                .unwrap_err()
                .status,
            StatusCode::FORBIDDEN
        );
    }
}
