//! Runs a console scenario (`tests/console/scenarios.mjs`) in Debian's
//! Chromium through Playwright, against a real server.

use std::path::PathBuf;

use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";

fn driver_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/console")
}

/// Where screenshots go; printed so a person can look at them.
pub fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

/// Drives `scenario` with `fixtures`; fails the test with the driver's output when it fails.
pub async fn drive(scenario: &str, endpoint: &str, fixtures: Value) {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "the console tests need Debian's Chromium: apt-get install chromium (./scripts/test.sh installs it)"
    );
    assert!(
        driver_dir().join("node_modules/playwright-core").exists(),
        "the console tests need playwright-core: (cd control-plane/tests/console && npm ci)"
    );
    let shots = screenshots();
    let out = tokio::process::Command::new("node")
        .arg("drive.mjs")
        .arg(scenario)
        .current_dir(driver_dir())
        .env("ENDPOINT", endpoint)
        .env("FIXTURES", fixtures.to_string())
        .env("SCREENSHOTS", &shots)
        .env("CHROMIUM", CHROMIUM)
        .output()
        .await
        .expect("node runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("console scenario {scenario} (screenshots in {}):\n{text}", shots.display());
    assert!(out.status.success(), "console scenario {scenario} failed:\n{text}");
}
