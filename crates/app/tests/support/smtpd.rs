//! A real SMTP server for the tests: aiosmtpd (PyPI) with `scripts/smtp_sink.py`, which writes
//! every message it accepts as JSON. `./scripts/test.sh` installs aiosmtpd in
//! `target/mail-venv`; `PASSNUM_TEST_PYTHON` may name another Python that has it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Smtpd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("PASSNUM_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = repo().join("target/mail-venv/bin/python");
    assert!(
        venv.exists(),
        "aiosmtpd est nécessaire aux tests d'e-mail : lancez ./scripts/test.sh (qui l'installe dans target/mail-venv) \
         ou `python3 -m venv target/mail-venv && target/mail-venv/bin/pip install aiosmtpd==1.4.6`"
    );
    venv
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the server on `port` and waits until it accepts connections.
pub fn start(port: u16) -> Smtpd {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(python())
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "smtp_sink.Sink",
        ])
        .arg(dir.path())
        .env("PYTHONPATH", repo().join("scripts"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("aiosmtpd");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd ne démarre pas");
        std::thread::sleep(Duration::from_millis(50));
    }
    Smtpd { child, port, dir }
}

impl Smtpd {
    /// The messages received so far, in order.
    pub fn received(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits until `n` messages have arrived (a server's worker sends on its own time).
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
