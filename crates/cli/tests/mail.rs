//! `passnum serve --smtp-url` against a real SMTP server (aiosmtpd), on both engines: an account
//! created by another process (`passnum staff create`) gets its password link by e-mail, built
//! on `--public-url`, from the sender given; bad settings stop the server with a sentence;
//! SIGTERM stops the worker with the server.

mod common;

#[path = "../../app/tests/support/smtpd.rs"]
mod smtpd;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, free_port};
use passnum_store::both_engines;

fn passnum(db: &str, dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_passnum"));
    c.arg("--signing-key")
        .arg(dir.join("signing.key"))
        .arg("--household-key")
        .arg(dir.join("household.key"))
        .args([
            "--database-url",
            db,
            "--public-url",
            "https://pass.example.fr",
        ]);
    c
}

both_engines! {
    async fn a_new_account_gets_its_password_link_by_e_mail(db) {
        let dir = tempfile::tempdir().unwrap();
        let smtp = smtpd::start(smtpd::free_port());
        let port = free_port();
        let log_path = dir.path().join("server.log");

        // A sender that is not an address: refused with a sentence before anything starts.
        let bad = passnum(&db.url, dir.path())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--smtp-url", &format!("smtp://127.0.0.1:{}", smtp.port)])
            .args(["--mail-from", "le pass"])
            .output()
            .unwrap();
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("--mail-from n'est pas une adresse d'expéditeur valable"), "{}", String::from_utf8_lossy(&bad.stderr));

        let child = passnum(&db.url, dir.path())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--mail-from", "Pass numérique <pass@example.fr>"])
            // The URL (and its password, if any) through the environment, as documented.
            .env("PASSNUM_SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let mut server = Server(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(&log_path).unwrap_or_default().contains("passnum écoute sur") {
            assert!(Instant::now() < deadline, "{}", std::fs::read_to_string(&log_path).unwrap_or_default());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let created = passnum(&db.url, dir.path())
            .args(["staff", "create", "--email", "awa@operateur.fr", "--name", "Awa Diallo", "--role", "operator"])
            .output()
            .unwrap();
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
        let link = String::from_utf8(created.stdout).unwrap().trim().to_string();
        assert!(link.starts_with("https://pass.example.fr/mot-de-passe/"), "{link}");

        let got = smtp.wait_for(1, Duration::from_secs(30));
        assert_eq!(got.len(), 1, "{}", std::fs::read_to_string(&log_path).unwrap_or_default());
        assert_eq!(got[0]["rcpt_tos"], serde_json::json!(["awa@operateur.fr"]));
        assert_eq!(got[0]["from"], "Pass numérique <pass@example.fr>");
        assert_eq!(got[0]["subject"], "Choisissez votre mot de passe passnum");
        let text = got[0]["text"].as_str().unwrap();
        assert!(text.contains(&format!("Choisir mon mot de passe : {link}")), "{text}");
        assert!(got[0]["message_id"].as_str().unwrap().ends_with("@pass.example.fr>"));

        // SIGTERM: the worker stops with the server, which says so.
        Command::new("kill").args(["-TERM", &server.0.id().to_string()]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = server.0.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "no stop after SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(status.success());
        let log = std::fs::read_to_string(&log_path).unwrap();
        assert!(log.contains("e-mails envoyés par le serveur SMTP"), "{log}");
        assert!(log.contains("passnum arrêté proprement"), "{log}");
        // Nothing sent twice.
        assert_eq!(smtp.received().len(), 1);
        // The operations team sees it sent, without its content.
        let status = passnum(&db.url, dir.path()).args(["mail", "status"]).output().unwrap();
        let status = String::from_utf8(status.stdout).unwrap();
        assert!(status.starts_with("E-mails : 0 en attente, 1 envoyés, 0 en échec"), "{status}");
        assert!(status.contains("password_link · awa@operateur.fr · envoyé · 1 tentative(s)"), "{status}");
        assert!(!status.contains("mot-de-passe/"), "{status}");
    }
}
