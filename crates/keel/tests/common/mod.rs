//! What the process tests share: a real `keel serve` started on port 0, reading its URL
//! and login from what it prints, signing in to it, and signals sent to it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub const KEEL: &str = env!("CARGO_BIN_EXE_keel");

pub struct Server {
    pub child: Child,
    pub base: String,
    /// What the "Sign in:" line printed.
    pub sign_in: String,
}

/// Start `keel serve --port 0` on `url` with extra environment, and read the URL and
/// login from what it prints.
pub fn start_with(url: &str, env: &[(&str, String)]) -> Server {
    let mut command = Command::new(KEEL);
    command.args(["serve", "--port", "0"]).env("DATABASE_URL", url).env("KEEL_LOG", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start keel");
    let stdout = child.stdout.take().expect("stdout");
    let mut base = String::new();
    let mut sign_in = String::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(rest) = line.trim().strip_prefix("Keel is running at ") {
            base = rest.trim_end_matches('/').to_string();
        }
        if let Some(rest) = line.trim().strip_prefix("Sign in:") {
            sign_in = rest.trim().to_string();
            break;
        }
    }
    assert!(!base.is_empty(), "keel did not print its URL");
    // Keep reading so the server never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, base, sign_in }
}

/// Send `sig` (`-KILL`, `-TERM`) to the process.
pub fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill").args([sig, &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
}

/// Sign in to the server at `base`; returns the session cookie (`name=value`).
pub async fn login(http: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200, "login as {email}");
    let cookie = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie");
    cookie.split(';').next().expect("pair").to_string()
}
