//! A real SMTP server for the tests: Python's aiosmtpd (`scripts/test.sh` installs it)
//! running `smtp_sink.py` as a child process, which writes every message it accepts to a
//! folder as JSON. Tests stop and start it on the same port to play "the mail server is
//! down".

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SCRIPT: &str = include_str!("smtp_sink.py");

pub struct SmtpServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: tokio::sync::Mutex<Option<Child>>,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

impl SmtpServer {
    /// A server that is not running yet (start it with `start`): its port is reserved
    /// only by convention, which is enough on a test machine.
    pub fn stopped() -> SmtpServer {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("smtp_sink.py"), SCRIPT).expect("write smtp_sink.py");
        std::fs::create_dir(dir.path().join("mail")).expect("mail folder");
        SmtpServer { port: free_port(), dir, child: tokio::sync::Mutex::new(None) }
    }

    /// A running server.
    pub async fn start_new() -> SmtpServer {
        let s = SmtpServer::stopped();
        s.start().await;
        s
    }

    fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// Start (again) on the same port; returns when it accepts connections.
    pub async fn start(&self) {
        let mut slot = self.child.lock().await;
        assert!(slot.is_none(), "the SMTP server is already running");
        let mut child = Command::new("python3")
            .arg(self.dir.path().join("smtp_sink.py"))
            .arg(self.port.to_string())
            .arg(self.mail_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the test SMTP server (pip install aiosmtpd)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line.trim() == "ready" => {}
            other => panic!("the test SMTP server did not start (is aiosmtpd installed?): {other:?}"),
        }
        *slot = Some(child);
    }

    /// Stop it: connections are refused until `start`.
    pub async fn stop(&self) {
        if let Some(mut child) = self.child.lock().await.take() {
            let _ = child.kill().await;
        }
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.mail_dir())
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|x| x == "json"));
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|s| serde_json::from_str(&s).ok())
            .collect()
    }

    /// Wait until at least `n` messages arrived (panics after `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let start = std::time::Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(start.elapsed() < timeout, "expected {n} email(s) within {timeout:?}, got {}: {got:?}", got.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
