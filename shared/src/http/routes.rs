//! The route table: the one list of routes, which template.yaml, the local
//! server and the fallback function all follow (tests hold them to it).

/// The route table, written once: for each route its id, method, path (no
/// trailing slash; `{name}` marks a path parameter), the SAM logical id of
/// the function serving it, that function's handler (crate `::` function)
/// and its OpenAPI operation (module of `crate::openapi` `::` function).
///
/// `route_table!(callback)` hands the rows to a macro of the caller's; this
/// module derives `RouteId`, `ROUTES` and the OpenAPI mapping from them,
/// the local server its dispatch (so a new route is one row here, its
/// function crate and the template, which a test holds to this table).
#[macro_export]
macro_rules! route_table {
    ($callback:ident) => {
        $callback! {
            Health GET "/health" => HealthFunction, health::handle, service_paths::health;
            SignUp POST "/auth/signup" => SignUpFunction, signup::handle, auth_paths::sign_up;
            PhoneSignUp POST "/auth/phone/signup" => PhoneSignUpFunction, phone_signup::handle, auth_paths::phone_sign_up;
            PhoneOtp POST "/auth/phone/otp" => PhoneOtpFunction, phone_otp::handle, auth_paths::phone_otp;
            PhoneLogin POST "/auth/phone/login" => PhoneLoginFunction, phone_login::handle, auth_paths::phone_login;
            Login POST "/auth/login" => LoginFunction, login::handle, auth_paths::login;
            TokenRefresh POST "/auth/token/refresh" => TokenRefreshFunction, token_refresh::handle, auth_paths::token_refresh;
            Logout POST "/auth/logout" => LogoutFunction, logout::handle, auth_paths::logout;
            PasswordChange POST "/auth/password/change" => PasswordChangeFunction, password_change::handle, auth_paths::password_change;
            Jwks GET "/.well-known/jwks.json" => JwksFunction, jwks::handle, auth_paths::jwks;
            OpenIdConfiguration GET "/.well-known/openid-configuration" => OpenIdConfigurationFunction, openid_configuration::handle, auth_paths::openid_configuration;
            Me GET "/users/me" => MeFunction, me::handle, user_paths::me;
            MeUpdate PATCH "/users/me" => MeUpdateFunction, me_update::handle, user_paths::me_update;
            Devices GET "/users/me/devices" => DevicesFunction, devices::handle, user_paths::devices;
            DeviceDelete DELETE "/users/me/devices/{id}" => DeviceDeleteFunction, device_delete::handle, user_paths::device_delete;
            TaskCreate POST "/tasks" => TaskCreateFunction, tasks_create::handle, service_paths::task_create;
            TaskGet GET "/tasks/{id}" => TaskGetFunction, task_get::handle, service_paths::task_get;
            TaskRevoke DELETE "/tasks/{id}" => TaskRevokeFunction, task_revoke::handle, service_paths::task_revoke;
            EmailConfirm POST "/auth/email/confirm" => EmailConfirmFunction, email_confirm::handle, auth_paths::email_confirm;
            EmailConfirmResend POST "/auth/email/confirm/resend" => EmailConfirmResendFunction, email_confirm_resend::handle, auth_paths::email_confirm_resend;
            PasswordReset POST "/auth/password/reset" => PasswordResetFunction, password_reset::handle, auth_paths::password_reset;
            PasswordResetConfirm POST "/auth/password/reset/confirm" => PasswordResetConfirmFunction, password_reset_confirm::handle, auth_paths::password_reset_confirm;
            PreRegister POST "/auth/pre-register" => PreRegisterFunction, pre_register::handle, auth_paths::pre_register;
            PreferencesGet GET "/users/me/preferences" => PreferencesGetFunction, preferences_get::handle, user_paths::preferences_get;
            PreferencesUpdate PUT "/users/me/preferences" => PreferencesUpdateFunction, preferences_update::handle, user_paths::preferences_update;
            PushTokensList GET "/users/me/push-tokens" => PushTokensListFunction, push_tokens_list::handle, user_paths::push_tokens_list;
            PushTokenCreate POST "/users/me/push-tokens" => PushTokenCreateFunction, push_token_create::handle, user_paths::push_token_create;
            PushTokensDeactivate POST "/users/me/push-tokens/deactivate-all" => PushTokensDeactivateFunction, push_tokens_deactivate::handle, user_paths::push_tokens_deactivate;
            PushTokenGet GET "/users/me/push-tokens/{id}" => PushTokenGetFunction, push_token_get::handle, user_paths::push_token_get;
            PushTokenUpdate PUT "/users/me/push-tokens/{id}" => PushTokenUpdateFunction, push_token_update::handle, user_paths::push_token_update;
            PushTokenDelete DELETE "/users/me/push-tokens/{id}" => PushTokenDeleteFunction, push_token_delete::handle, user_paths::push_token_delete;
            AccountDelete DELETE "/users/me" => AccountDeleteFunction, account_delete::handle, user_paths::account_delete;
            AccountExport POST "/users/me/export" => AccountExportFunction, account_export::handle, user_paths::account_export;
            AvatarUpload POST "/users/me/avatar" => AvatarFunction, avatar::upload, avatar_paths::avatar_upload;
            AvatarGet GET "/users/me/avatar" => AvatarFunction, avatar::show, avatar_paths::avatar_get;
            AvatarDelete DELETE "/users/me/avatar" => AvatarFunction, avatar::remove, avatar_paths::avatar_delete;
            OpenApi GET "/openapi.json" => OpenApiFunction, openapi::handle, service_paths::openapi;
            Docs GET "/docs" => DocsFunction, docs::page, service_paths::docs;
            DocsAsset GET "/docs/assets/{file}" => DocsFunction, docs::asset, service_paths::docs_asset;
            Ui GET "/ui" => PagesFunction, pages::index, service_paths::ui;
            UiPage GET "/ui/{page}" => PagesFunction, pages::page, service_paths::ui_page;
            UiAsset GET "/ui/assets/{file}" => PagesFunction, pages::asset, service_paths::ui_asset;
            AdminUsers GET "/admin/users" => AdminUsersFunction, admin_users::list, admin_paths::users;
            AdminUser GET "/admin/users/{id}" => AdminUsersFunction, admin_users::show, admin_paths::user;
            AdminUserDelete DELETE "/admin/users/{id}" => AdminUsersFunction, admin_users::delete, admin_paths::user_delete;
            AdminUserDeactivate POST "/admin/users/{id}/deactivate" => AdminUsersFunction, admin_users::deactivate, admin_paths::user_deactivate;
            AdminUserActivate POST "/admin/users/{id}/activate" => AdminUsersFunction, admin_users::activate, admin_paths::user_activate;
            AdminUserUnlock POST "/admin/users/{id}/unlock" => AdminUsersFunction, admin_users::unlock, admin_paths::user_unlock;
            AdminUserLogoutAll POST "/admin/users/{id}/logout-all" => AdminUsersFunction, admin_users::logout_all, admin_paths::user_logout_all;
            AdminUserVerifyEmail POST "/admin/users/{id}/verify-email" => AdminUsersFunction, admin_users::verify_email, admin_paths::user_verify_email;
            AdminUserPasswordReset POST "/admin/users/{id}/password-reset" => AdminUsersFunction, admin_users::password_reset, admin_paths::user_password_reset;
            AdminAudit GET "/admin/audit" => AdminAuditFunction, admin_audit::handle, admin_paths::audit;
            AdminIpBlocks GET "/admin/ip-blocks" => AdminIpBlocksFunction, admin_ip_blocks::list, admin_paths::ip_blocks;
            AdminIpBlockCreate POST "/admin/ip-blocks" => AdminIpBlocksFunction, admin_ip_blocks::create, admin_paths::ip_block_create;
            AdminIpBlockDelete DELETE "/admin/ip-blocks/{id}" => AdminIpBlocksFunction, admin_ip_blocks::delete, admin_paths::ip_block_delete;
            MeReplace PUT "/users/me" => MeUpdateFunction, me_update::replace, user_paths::me_replace;
            Root GET "/" => DocsFunction, docs::root, service_paths::root;
            Credits GET "/users/me/credits" => CreditsFunction, credits::handle, credit_paths::credits;
            AdminUserCredits POST "/admin/users/{id}/credits" => AdminUsersFunction, admin_users::credits, credit_paths::admin_credits;
            StripeWebhook POST "/webhooks/stripe" => StripeWebhookFunction, stripe_webhook::handle, credit_paths::stripe_webhook;
            BillingCheckout POST "/billing/checkout" => BillingCheckoutFunction, billing_checkout::handle, credit_paths::billing_checkout;
        }
    };
}

/// Derives the route ids, the table and each route's label and OpenAPI
/// operation from the rows of `route_table!`.
macro_rules! define_routes {
    ($($id:ident $method:ident $path:literal => $function:ident, $krate:ident :: $handler:ident, $paths:ident :: $operation:ident;)*) => {
        /// One route of the API (a row of `route_table!`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RouteId {
            $($id,)*
        }

        /// Every route, in the order of `route_table!`.
        pub const ROUTES: &[Route] = &[
            $(Route {
                id: RouteId::$id,
                method: stringify!($method),
                path: $path,
                function: stringify!($function),
            },)*
        ];

        impl RouteId {
            /// `METHOD /path`, as logs and metrics name the route.
            pub const fn label(self) -> &'static str {
                match self {
                    $(RouteId::$id => concat!(stringify!($method), " ", $path),)*
                }
            }

            /// The route's operation in the OpenAPI document.
            #[cfg(feature = "openapi")]
            pub(crate) fn operation(self) -> utoipa::openapi::path::Operation {
                match self {
                    $(RouteId::$id => crate::openapi::$paths::$operation(),)*
                }
            }
        }
    };
}

crate::route_table!(define_routes);

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
