//! Which web pages may call the RPC from a browser: the CORS policy (tower-http's
//! `CorsLayer`) from the configured origins. `*` allows any origin (the dev node's default);
//! an empty list allows none, so a browser refuses the answers for pages of other origins.
//! Preflight `OPTIONS` requests are answered by the layer; calls keep their JSON-RPC answers,
//! with `Access-Control-Allow-Origin` added when the origin is allowed.
use std::time::Duration;

use anyhow::{bail, Result};
use http::{header, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// Refuses a configured origin that is neither `*` nor `http(s)://host[:port]` without a path.
pub fn check_origin(origin: &str) -> Result<()> {
    if origin == "*" {
        return Ok(());
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains('/') && HeaderValue::from_str(origin).is_ok() => Ok(()),
        _ => bail!(
            "CORS origin `{origin}` must be `*` or a scheme and host like `https://bank.example` (no path)"
        ),
    }
}

/// The CORS layer for `origins` (already checked by [`check_origin`]).
pub fn layer(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::POST, Method::GET, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(PREFLIGHT_MAX_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_a_scheme_and_host_or_any() {
        for ok in ["*", "https://bank.example", "http://127.0.0.1:8080"] {
            assert!(check_origin(ok).is_ok(), "{ok}");
        }
        for bad in [
            "bank.example",
            "https://",
            "https://bank.example/app",
            "ftp://x",
            "",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
