//! Untrusted text in the real webview (issue 6's XSS corpus): script tags, event handlers,
//! `javascript:` links, SVG and MathML, template syntax and look-alike Unicode, in the subject,
//! body and link of notifications from a real hub. Each payload, if it ever ran, would set
//! `window.__pwned`; the window shows every one as text, adds no element of its own, offers no
//! link-out for anything but http(s), and the Rust side refuses to open such a link even when
//! the page asks for it directly. The quick panel shows them as text too. The CSP in
//! tauri.conf.json is checked to stay strict.

use herald_client::ipc::Event;
use herald_e2e::desktop::Desktop;
use herald_e2e::display::Display;
use herald_e2e::webdriver::{ui_env, TauriDriver};
use serde_json::{json, Value};

const CORPUS: &[&str] = &[
    "<script>window.__pwned='script'</script>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    "<svg onload=\"window.__pwned='svg'\"><circle r=\"5\"/></svg>",
    "<iframe src=\"javascript:parent.__pwned='iframe'\"></iframe>",
    "<a href=\"javascript:window.__pwned='anchor'\">open</a>",
    "\"><body onload=\"window.__pwned='attribute'\">",
    "<math><mi xlink:href=\"javascript:window.__pwned='mathml'\">x</mi></math>",
    "{{constructor.constructor('window.__pwned=\"template\"')()}} ${window.__pwned='literal'}",
    "javascript:window.__pwned='link'",
    "JaVaScRiPt:window.__pwned='mixed case'",
    "ｊａｖａｓｃｒｉｐｔ:window.__pwned='fullwidth'",
    "java\tscript:window.__pwned='tab'",
    "data:text/html,<script>window.__pwned='data'</script>",
    "\u{202e}gpj.exe \u{200b}https\u{ff0f}\u{ff0f}evil.example",
];

const SUBJECTS: &str =
    "return [...document.querySelectorAll('[data-testid=notification] .subject')].map(e => e.textContent)";
const PANEL_SUBJECTS: &str =
    "return [...document.querySelectorAll('[data-testid=panel-item] .subject')].map(e => e.textContent)";
const DETAIL: &str = "return document.querySelector('[data-testid=detail] .subject')?.textContent ?? null";
/// Whatever a payload could have done, and elements the window itself never makes.
const HARM: &str = "return {
    pwned: window.__pwned ?? null,
    title: document.title,
    foreign: document.querySelectorAll('main img, main svg, main iframe, main script, main math, main a[href], body > iframe').length,
    link_out: document.querySelector('[data-testid=open-link]') !== null,
}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_payload_in_a_notification_runs_in_the_window_or_opens_as_a_link() {
    let Desktop { dir, bus: _bus, daemon: _daemon, hub, erp, env, agent: _agent, mut window, .. } =
        Desktop::online().await;
    let mut ids = Vec::new();
    for payload in CORPUS {
        ids.push(hub.send_fields(&erp, "bob", json!({"subject": payload, "body": payload, "link": payload})).await);
    }
    let count = CORPUS.len() as u32;
    window
        .wait_for("the corpus mirrored", |e| {
            matches!(e, Event::InboxChanged { unread } if *unread == count).then_some(())
        })
        .await;

    let display = Display::start();
    let driver = TauriDriver::start(ui_env(&display, &env, dir.path(), [])).await;
    let ui = driver.session(&herald_e2e::binary("herald-ui")).await;
    let listed: Vec<String> = ui
        .wait_for("the inbox to list the corpus", SUBJECTS, |v| {
            let listed: Vec<String> = v.as_array()?.iter().filter_map(|s| s.as_str().map(String::from)).collect();
            (listed.len() == CORPUS.len()).then_some(listed)
        })
        .await;
    let title = ui.execute("return document.title").await;

    for (payload, id) in CORPUS.iter().zip(&ids) {
        // Each one opened in the detail pane, where its body and link are shown too.
        // Brought into view first: the list is virtualised, and the window shows about ten rows.
        let row = format!("[data-testid=notification][data-id='{id}'] button");
        ui.execute(&format!("document.querySelector(\"{row}\").scrollIntoView({{block: 'center'}})")).await;
        ui.click(&row).await;
        let shown = ui.wait_for("it opened", DETAIL, |v| v.as_str().filter(|s| !s.is_empty()).map(String::from)).await;
        assert!(listed.contains(&shown), "{shown:?} is not one of the listed subjects");
        let harm = ui.execute(HARM).await;
        assert_eq!(harm["pwned"], Value::Null, "{payload:?} ran");
        assert_eq!(harm["title"], title, "{payload:?} changed the title");
        assert_eq!(harm["foreign"], 0, "{payload:?} became markup");
        assert_eq!(harm["link_out"], false, "{payload:?} is offered as a link");
        // Asked directly, as a page taken over would: the Rust side refuses.
        let opened = ui
            .execute(&format!(
                "return window.__TAURI_INTERNALS__.invoke('open_link', {{ id: {id} }}).then(() => 'opened', e => 'refused: ' + JSON.stringify(e))"
            ))
            .await;
        let opened = opened.as_str().unwrap_or_default();
        assert!(opened.starts_with("refused") && opened.contains("link_refused"), "{payload:?}: {opened}");
    }
    // Shown as text: the subjects are what was sent, less the control characters a line drops.
    for payload in CORPUS.iter().filter(|p| !p.contains('\t')) {
        assert!(listed.iter().any(|s| s == payload), "{payload:?} is not shown as sent: {listed:?}");
    }

    // The quick panel lists the same notifications (its latest 20), bodies included: the same
    // page as the panel window loads, in this webview.
    ui.execute("setTimeout(() => { location.search = '?window=panel' }, 0); return null").await;
    let in_panel: Vec<String> = ui
        .wait_for("the panel to list the corpus", PANEL_SUBJECTS, |v| {
            let listed: Vec<String> = v.as_array()?.iter().filter_map(|s| s.as_str().map(String::from)).collect();
            (listed.len() == CORPUS.len()).then_some(listed)
        })
        .await;
    let harm = ui.execute(HARM).await;
    assert_eq!(harm["pwned"], Value::Null, "a payload ran in the panel");
    assert_eq!(harm["title"], "Herald", "a payload changed the panel's title");
    assert_eq!(harm["foreign"], 0, "a payload became markup in the panel");
    for payload in CORPUS.iter().filter(|p| !p.contains('\t')) {
        assert!(in_panel.iter().any(|s| s == payload), "{payload:?} is not shown as sent in the panel: {in_panel:?}");
    }
    ui.close().await;
}

/// The webview's CSP stays strict: scripts only from the app itself, nothing inline or eval'd,
/// no plugins, frames or base rewrites.
#[test]
fn the_content_security_policy_allows_no_inline_or_foreign_script() {
    let conf: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../src-tauri/tauri.conf.json")).unwrap(),
    )
    .unwrap();
    let csp = conf["app"]["security"]["csp"].as_str().expect("a CSP is set");
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {csp}"))
            .to_owned()
    };
    assert_eq!(directive("script-src"), "script-src 'self'");
    assert_eq!(directive("object-src"), "object-src 'none'");
    assert_eq!(directive("base-uri"), "base-uri 'none'");
    assert_eq!(directive("frame-src"), "frame-src 'none'");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
}
