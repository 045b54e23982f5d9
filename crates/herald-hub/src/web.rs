//! The web inbox, served at `/` from files embedded at build time (`build.rs`): the page, with
//! a strict Content-Security-Policy (scripts and styles only from the hub itself, nothing
//! framed, no plugin), and its hashed assets, cached for a year.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The page's entry point as Vite writes it.
const PAGE: &str = "/web.html";

/// Styles may be inline (Svelte sets element styles); everything else comes from the hub:
/// scripts, the feed (`connect-src 'self'` covers its ws:/wss:), images but for the favicon
/// badge drawn as a data: URL.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; manifest-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'; object-src 'none'";

/// Paths this module serves (not rate-limited, not authenticated).
pub fn is_page_path(path: &str) -> bool {
    path == "/" || path.starts_with("/assets/") || path == "/favicon.svg"
}

fn find(route: &str) -> Option<&'static [u8]> {
    ASSETS.iter().find(|(path, _)| *path == route).map(|(_, bytes)| *bytes)
}

fn content_type(route: &str) -> &'static str {
    match route.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") | Some("webmanifest") => "application/manifest+json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

pub async fn page() -> Response {
    let Some(html) = find(PAGE) else {
        let text = "This herald-hub was built without the web inbox. Build it with `make web` \
                    (npm run build:web in ui/), then build herald-hub again.";
        return (StatusCode::NOT_FOUND, [(CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
    };
    let mut response = ([(CONTENT_TYPE, content_type(PAGE))], html).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Always asked again: a new hub version brings new asset names.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub async fn asset(Path(path): Path<String>) -> Response {
    let route = format!("/assets/{path}");
    match find(&route) {
        Some(bytes) => {
            let mut response = ([(CONTENT_TYPE, content_type(&route))], bytes).into_response();
            // File names carry a hash of their contents.
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            response
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

pub async fn favicon() -> Response {
    match find("/favicon.svg") {
        Some(bytes) => ([(CONTENT_TYPE, "image/svg+xml")], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
