//! The local pay page: where `POST /billing/checkout` sends the payer in a
//! local run without a Stripe key. `GET /_local/checkout/{id}` shows the
//! pack and a "Pay" button (a plain form: no script, the pages' policy);
//! pressing it pays the session as Stripe would, by posting the signed
//! `checkout.session.completed` event to this server's own
//! `POST /webhooks/stripe`, then sends the payer to the success URL. Only
//! the local server has these routes.

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::StatusCode;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::Body;
use shared::adapters::local_checkout::{LocalSession, LOCAL_CHECKOUT_PATH};

use crate::LocalApp;

pub fn routes() -> axum::Router<Arc<LocalApp>> {
    axum::Router::new()
        .route(
            &format!("{LOCAL_CHECKOUT_PATH}/{{id}}"),
            axum::routing::get(pay_page),
        )
        .route(
            &format!("{LOCAL_CHECKOUT_PATH}/{{id}}/pay"),
            axum::routing::post(pay),
        )
}

/// The pages' style sheet under its fingerprinted name.
fn style_sheet() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        pages::Site::new()
            .assets()
            .iter()
            .find(|asset| asset.name.starts_with("app.") && asset.name.ends_with(".css"))
            .map(|asset| asset.name.clone())
            .unwrap_or_default()
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A long id, escaped, that may wrap on a phone's screen (every 16
/// characters).
fn breakable(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    chars
        .chunks(16)
        .map(|chunk| escape(&chunk.iter().collect::<String>()))
        .collect::<Vec<_>>()
        .join("<wbr>")
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title} · Accounts</title>\n\
         <link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"/ui/assets/{css}\">\n\
         </head>\n<body>\n<header class=\"bar\"><a class=\"brand\" href=\"/ui/\">Accounts</a>\
         <span class=\"badge\">local checkout: no real payment</span></header>\n\
         <main id=\"main\" tabindex=\"-1\">\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title),
        css = style_sheet(),
    );
    // The pages' policy; this page shows no avatar, so no bucket origin.
    let policy = pages::page_policy(None);
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (CACHE_CONTROL, "no-store".to_owned()),
            (
                http::HeaderName::from_static("content-security-policy"),
                policy,
            ),
        ],
        page,
    )
        .into_response()
}

fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "No such checkout",
        "<section><p>This checkout session does not exist here (the local server keeps \
         sessions in memory, and a restart forgets them).</p>\
         <p><a href=\"/ui/account\">Back to your account</a></p></section>",
    )
}

fn session(app: &LocalApp, id: &str) -> Option<LocalSession> {
    app.local_checkout.as_ref()?.session(id)
}

fn price(session: &LocalSession) -> String {
    let pack = &session.request.pack;
    format!(
        "{}.{:02} {}",
        pack.price_cents / 100,
        pack.price_cents % 100,
        pack.currency.to_uppercase()
    )
}

/// `GET /_local/checkout/{id}`.
async fn pay_page(State(app): State<Arc<LocalApp>>, Path(id): Path<String>) -> Response {
    let Some(session) = session(&app, &id) else {
        return not_found();
    };
    let request = &session.request;
    let state = if session.paid {
        "<p class=\"status\">This session is paid.</p>"
    } else {
        ""
    };
    let body = format!(
        "<section aria-labelledby=\"h-order\">\n<h2 id=\"h-order\">Your order</h2>\n{state}\n\
         <table>\n<tr><th scope=\"row\">Item</th><td data-field=\"product\">{product}</td></tr>\n\
         <tr><th scope=\"row\">Pack</th><td data-field=\"pack\">{pack}</td></tr>\n\
         <tr><th scope=\"row\">Credits</th><td data-field=\"credits\">{credits}</td></tr>\n\
         <tr><th scope=\"row\">Price</th><td data-field=\"price\">{price}</td></tr>\n\
         </table>\n<p class=\"muted\">Session <code data-field=\"session\">{shown_id}</code></p>\n</section>\n\
         <form method=\"post\" action=\"{LOCAL_CHECKOUT_PATH}/{id}/pay\" aria-label=\"Pay\" class=\"row\">\n\
         <button type=\"submit\">Pay {price}</button>\n\
         <a class=\"muted\" href=\"{cancel}\">Cancel</a>\n</form>\n\
         <p class=\"muted\">Paying here posts the <code>checkout.session.completed</code> event \
         Stripe would send, signed with this server's webhook secret, to its own \
         <code>POST /webhooks/stripe</code>.</p>",
        product = escape(&request.product_name()),
        pack = escape(&request.pack.name),
        credits = request.pack.credits,
        price = escape(&price(&session)),
        id = escape(&session.id),
        shown_id = breakable(&session.id),
        cancel = escape(&request.cancel_url),
    );
    html(StatusCode::OK, "Pay for your credits", &body)
}

/// `POST /_local/checkout/{id}/pay`.
async fn pay(State(app): State<Arc<LocalApp>>, Path(id): Path<String>) -> Response {
    let Some(checkout) = app.local_checkout.as_ref() else {
        return not_found();
    };
    let Some(event) = checkout.pay(&id, app.stores.clock.now()) else {
        return not_found();
    };
    let mut request = lambda_http::Request::new(Body::from(event.payload));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = http::Uri::from_static("/webhooks/stripe");
    let headers = request.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    match http::HeaderValue::from_str(&event.signature) {
        Ok(value) => {
            headers.insert("stripe-signature", value);
        }
        Err(_) => return not_found(),
    }
    let mut gateway = ApiGatewayV2httpRequestContext::default();
    gateway.request_id = Some(uuid::Uuid::new_v4().to_string());
    gateway.http.method = http::Method::POST;
    gateway.http.path = Some("/webhooks/stripe".to_owned());
    gateway.http.source_ip = Some("127.0.0.1".to_owned());
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV2(gateway));
    let answer = app.dispatch(request).await;
    if answer.status() != StatusCode::OK {
        tracing::warn!(status = %answer.status(), "the local webhook refused the payment");
        return html(
            StatusCode::BAD_GATEWAY,
            "Payment not recorded",
            &format!(
                "<section><p class=\"error\">The webhook answered {}: see the server's log.</p>\
                 <p><a href=\"/ui/account\">Back to your account</a></p></section>",
                answer.status()
            ),
        );
    }
    let success = event.success_url.replace("{CHECKOUT_SESSION_ID}", &id);
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, success), (CACHE_CONTROL, "no-store".to_owned())],
    )
        .into_response()
}
