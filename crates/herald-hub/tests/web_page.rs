//! The web inbox's page and assets as herald-hub serves them from its own binary (built from
//! ui/dist-web by `make web` before the hub; scripts/test.sh does).

mod common;

use common::*;

#[tokio::test]
async fn the_page_comes_with_a_strict_policy_and_its_assets_from_the_binary() {
    let hub = start().await;
    let page = hub.client.get(format!("{}/", hub.base)).send().await.unwrap();
    assert_eq!(page.status(), 200, "the web inbox is not embedded: run `make web` before building herald-hub");
    let headers = page.headers().clone();
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in
        ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]
    {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing from elsewhere: {html}");

    let script = html.split('"').find(|part| part.starts_with("/assets/") && part.ends_with(".js")).expect("a script");
    let asset = hub.client.get(format!("{}{script}", hub.base)).send().await.unwrap();
    assert_eq!(asset.status(), 200);
    assert!(asset.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(asset.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let missing = hub.client.get(format!("{}/assets/nothing.js", hub.base)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_page_is_never_rate_limited_while_sign_in_requests_are() {
    let config = herald_hub::HubConfig {
        rate_limit: Some(herald_hub::RateLimit { per_second: 1.0, burst: 2.0 }),
        ..Default::default()
    };
    let hub = start_configured(Store::open_in_memory().unwrap(), config).await;
    // The page is never limited; sign-in attempts are limited per address, not all together.
    for _ in 0..5 {
        assert_eq!(hub.client.get(format!("{}/", hub.base)).send().await.unwrap().status(), 200);
    }
    let sign_in = || hub.client.post(format!("{}/v1/session", hub.base)).json(&json!({"user": "x", "password": "y"}));
    let statuses: Vec<u16> = futures_util::future::join_all((0..4).map(|_| sign_in().send()))
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert!(statuses.contains(&429), "this address ran out: {statuses:?}");
}
