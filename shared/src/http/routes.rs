//! The route table: the one list of routes, which template.yaml, the local
//! server and the fallback function all follow (tests hold them to it).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteId {
    Health,
    SignUp,
    PhoneSignUp,
    Login,
    TokenRefresh,
    Logout,
    PasswordChange,
    Jwks,
    Me,
    MeUpdate,
    Devices,
    DeviceDelete,
    TaskCreate,
    TaskGet,
    TaskRevoke,
    EmailConfirm,
    EmailConfirmResend,
    PasswordReset,
    PasswordResetConfirm,
    PreRegister,
    PreferencesGet,
    PreferencesUpdate,
    PushTokensList,
    PushTokenCreate,
    PushTokenGet,
    PushTokenUpdate,
    PushTokenDelete,
    PushTokensDeactivate,
    AccountDelete,
    AccountExport,
    OpenApi,
    Docs,
    DocsAsset,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub id: RouteId,
    pub method: &'static str,
    /// Without a trailing slash; `{name}` marks a path parameter. Each
    /// route also answers with a trailing slash.
    pub path: &'static str,
    /// The SAM logical id of the function serving it.
    pub function: &'static str,
}

#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    Route { id: RouteId::Health, method: "GET", path: "/health", function: "HealthFunction" },
    Route { id: RouteId::SignUp, method: "POST", path: "/auth/signup", function: "SignUpFunction" },
    Route { id: RouteId::PhoneSignUp, method: "POST", path: "/auth/phone/signup", function: "PhoneSignUpFunction" },
    Route { id: RouteId::Login, method: "POST", path: "/auth/login", function: "LoginFunction" },
    Route { id: RouteId::TokenRefresh, method: "POST", path: "/auth/token/refresh", function: "TokenRefreshFunction" },
    Route { id: RouteId::Logout, method: "POST", path: "/auth/logout", function: "LogoutFunction" },
    Route { id: RouteId::PasswordChange, method: "POST", path: "/auth/password/change", function: "PasswordChangeFunction" },
    Route { id: RouteId::Jwks, method: "GET", path: "/.well-known/jwks.json", function: "JwksFunction" },
    Route { id: RouteId::Me, method: "GET", path: "/users/me", function: "MeFunction" },
    Route { id: RouteId::MeUpdate, method: "PATCH", path: "/users/me", function: "MeUpdateFunction" },
    Route { id: RouteId::Devices, method: "GET", path: "/users/me/devices", function: "DevicesFunction" },
    Route { id: RouteId::DeviceDelete, method: "DELETE", path: "/users/me/devices/{id}", function: "DeviceDeleteFunction" },
    Route { id: RouteId::TaskCreate, method: "POST", path: "/tasks", function: "TaskCreateFunction" },
    Route { id: RouteId::TaskGet, method: "GET", path: "/tasks/{id}", function: "TaskGetFunction" },
    Route { id: RouteId::TaskRevoke, method: "DELETE", path: "/tasks/{id}", function: "TaskRevokeFunction" },
    Route { id: RouteId::EmailConfirm, method: "POST", path: "/auth/email/confirm", function: "EmailConfirmFunction" },
    Route { id: RouteId::EmailConfirmResend, method: "POST", path: "/auth/email/confirm/resend", function: "EmailConfirmResendFunction" },
    Route { id: RouteId::PasswordReset, method: "POST", path: "/auth/password/reset", function: "PasswordResetFunction" },
    Route { id: RouteId::PasswordResetConfirm, method: "POST", path: "/auth/password/reset/confirm", function: "PasswordResetConfirmFunction" },
    Route { id: RouteId::PreRegister, method: "POST", path: "/auth/pre-register", function: "PreRegisterFunction" },
    Route { id: RouteId::PreferencesGet, method: "GET", path: "/users/me/preferences", function: "PreferencesGetFunction" },
    Route { id: RouteId::PreferencesUpdate, method: "PUT", path: "/users/me/preferences", function: "PreferencesUpdateFunction" },
    Route { id: RouteId::PushTokensList, method: "GET", path: "/users/me/push-tokens", function: "PushTokensListFunction" },
    Route { id: RouteId::PushTokenCreate, method: "POST", path: "/users/me/push-tokens", function: "PushTokenCreateFunction" },
    Route { id: RouteId::PushTokensDeactivate, method: "POST", path: "/users/me/push-tokens/deactivate-all", function: "PushTokensDeactivateFunction" },
    Route { id: RouteId::PushTokenGet, method: "GET", path: "/users/me/push-tokens/{id}", function: "PushTokenGetFunction" },
    Route { id: RouteId::PushTokenUpdate, method: "PUT", path: "/users/me/push-tokens/{id}", function: "PushTokenUpdateFunction" },
    Route { id: RouteId::PushTokenDelete, method: "DELETE", path: "/users/me/push-tokens/{id}", function: "PushTokenDeleteFunction" },
    Route { id: RouteId::AccountDelete, method: "DELETE", path: "/users/me", function: "AccountDeleteFunction" },
    Route { id: RouteId::AccountExport, method: "POST", path: "/users/me/export", function: "AccountExportFunction" },
    Route { id: RouteId::OpenApi, method: "GET", path: "/openapi.json", function: "OpenApiFunction" },
    Route { id: RouteId::Docs, method: "GET", path: "/docs", function: "DocsFunction" },
    Route { id: RouteId::DocsAsset, method: "GET", path: "/docs/assets/{file}", function: "DocsFunction" },
];

#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch {
    Found {
        route: &'static Route,
        params: Vec<(&'static str, String)>,
    },
    MethodNotAllowed {
        allowed: Vec<&'static str>,
    },
    NotFound,
}

pub fn match_route(method: &str, path: &str) -> RouteMatch {
    let path = normalise(path);
    let mut allowed = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_path(route.path, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return RouteMatch::Found { route, params };
            }
            allowed.push(route.method);
        }
    }
    if allowed.is_empty() {
        RouteMatch::NotFound
    } else {
        RouteMatch::MethodNotAllowed { allowed }
    }
}

/// One trailing slash is ignored: every route answers with and without it.
fn normalise(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => path,
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Route {}

fn match_path(pattern: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut params = Vec::new();
    let mut pattern_parts = pattern.split('/');
    let mut path_parts = path.split('/');
    loop {
        match (pattern_parts.next(), path_parts.next()) {
            (None, None) => return Some(params),
            (Some(p), Some(s)) if p.starts_with('{') && p.ends_with('}') && !s.is_empty() => {
                params.push((&p[1..p.len() - 1], s.to_owned()));
            }
            (Some(p), Some(s)) if p == s => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_with_and_without_trailing_slash() {
        for path in ["/auth/signup", "/auth/signup/"] {
            assert!(
                matches!(match_route("POST", path), RouteMatch::Found { route, .. } if route.id == RouteId::SignUp)
            );
        }
    }

    #[test]
    fn wrong_method_and_unknown_path() {
        assert_eq!(
            match_route("GET", "/auth/signup"),
            RouteMatch::MethodNotAllowed {
                allowed: vec!["POST"]
            }
        );
        assert_eq!(match_route("GET", "/nope"), RouteMatch::NotFound);
        assert_eq!(match_route("GET", "/auth/signup//"), RouteMatch::NotFound);
        assert_eq!(match_route("GET", ""), RouteMatch::NotFound);
    }

    #[test]
    fn path_parameters() {
        assert_eq!(
            match_path("/tasks/{id}", "/tasks/42"),
            Some(vec![("id", "42".to_owned())])
        );
        assert_eq!(match_path("/tasks/{id}", "/tasks/"), None);
        assert_eq!(match_path("/tasks/{id}", "/tasks/1/2"), None);
    }
}
