//! The web console: static files served at `GET /` beside the API. They are
//! plain ES modules compiled into the binary (`include_bytes!`), so
//! `cargo build` alone makes a binary with the console and no Node is needed
//! to build it (ARCHITECTURE.md says why). The console is a client of the
//! public API: it calls the same operations as the AWS CLI, from the browser.

use super::http::Reply;

/// Only our own files run; nothing inline, no other origin, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Headers on every console file.
pub const HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    // A new binary brings new files: the browser revalidates instead of running stale modules.
    ("cache-control", "no-cache"),
];

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($path:literal, $kind:expr) => {
        (concat!("/console/", $path), $kind, include_bytes!(concat!("../../console/", $path)).as_slice())
    };
}

/// Every file of the console: its URL path, content type and bytes.
const ASSETS: [(&str, &str, &[u8]); 19] = [
    asset!("index.html", HTML),
    asset!("style.css", CSS),
    asset!("logo.svg", SVG),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("sigv4.js", JS),
    asset!("dom.js", JS),
    asset!("time.js", JS),
    asset!("graph.js", JS),
    asset!("history.js", JS),
    asset!("machines.js", JS),
    asset!("machine.js", JS),
    asset!("executions.js", JS),
    asset!("execution.js", JS),
    asset!("mapruns.js", JS),
    asset!("activities.js", JS),
    asset!("schedules.js", JS),
    asset!("bulk.js", JS),
    asset!("workflow.js", JS),
];

/// The console file at `path`, or `None`. `/` is the page itself: every
/// screen is a `#/…` address inside it, so links can be shared.
pub fn get(path: &str) -> Option<Reply> {
    let path = if path == "/" || path == "/console" || path == "/console/" { "/console/index.html" } else { path };
    let (_, content_type, body) = ASSETS.iter().find(|(p, _, _)| *p == path)?;
    Some(Reply { status: 200, error_type: None, body: body.to_vec(), content_type, headers: &HEADERS })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_modules_are_served_with_a_strict_policy() {
        let page = get("/").expect("the console's page");
        assert_eq!(page.content_type, HTML);
        assert!(page.headers.iter().any(|(h, v)| *h == "content-security-policy" && v.contains("script-src 'self'")));
        let html = String::from_utf8(page.body).expect("utf-8");
        assert!(!html.contains("<script>"), "no inline script: the policy would refuse it");
        for (path, _, _) in ASSETS {
            assert!(get(path).is_some(), "{path}");
        }
        assert!(get("/console/../Cargo.toml").is_none());
        assert!(get("/nothing").is_none());
    }

    #[test]
    fn every_module_imported_is_served() {
        for (path, _, body) in ASSETS.iter().filter(|(_, k, _)| *k == JS) {
            let text = std::str::from_utf8(body).expect("utf-8");
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let target = line.rsplit_once("from \"./").map(|(_, t)| t.trim_end_matches("\";"));
                let target = target.unwrap_or_else(|| panic!("{path}: imports only ./ modules: {line}"));
                assert!(get(&format!("/console/{target}")).is_some(), "{path} imports {target}, which is not served");
            }
        }
    }
}
