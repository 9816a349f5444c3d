//! The audit trail on both engines: lines chained in order even when appended in parallel,
//! UPDATE and DELETE refused, and an altered, removed or truncated line found by the check.

mod common;

use common::*;
use passnum_store::{AuditVerdict, NewAuditEntry, Store, both_engines};

fn line(n: u16) -> NewAuditEntry {
    NewAuditEntry {
        actor: format!("staff:{n}"),
        role: "operator".into(),
        org_id: None,
        action: "POST /operateur/commanditaires".into(),
        target: "/operateur/commanditaires".into(),
        status: 303,
        client: "192.0.2.7".into(),
        at: t0(),
    }
}

async fn drop_guards(s: &Store) {
    let statements: &[&str] = match s.engine() {
        passnum_store::Engine::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ],
        passnum_store::Engine::Postgres => &["DROP TRIGGER audit_log_append_only ON audit_log"],
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .execute(s.pool())
            .await
            .unwrap();
    }
}

both_engines! {
    async fn the_trail_is_chained_append_only_and_checked(db) {
        let s = &db.store;
        assert!(matches!(s.verify_audit().await.unwrap(), AuditVerdict::Intact { lines: 0, .. }));
        // 40 appends from 8 tasks at once: one chain, ids 1 to 40.
        let mut tasks = vec![];
        for t in 0..8u16 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..5u16 {
                    s.append_audit(&line(t * 10 + i)).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let AuditVerdict::Intact { lines, head } = s.verify_audit().await.unwrap() else { panic!("broken") };
        assert_eq!(lines, 40);
        let newest = s.audit_entries(None, 1, 0).await.unwrap();
        assert_eq!((newest[0].id, newest[0].hash.clone()), (40, head));
        // The database refuses to change or remove a line.
        assert!(sqlx::query("UPDATE audit_log SET actor = 'staff:99' WHERE id = 3").execute(s.pool()).await.is_err());
        assert!(sqlx::query("DELETE FROM audit_log WHERE id = 3").execute(s.pool()).await.is_err());
        // Someone who drops the guards: an altered line is found, then a removed one, then the
        // last ones removed.
        drop_guards(s).await;
        sqlx::query("UPDATE audit_log SET client = '203.0.113.9' WHERE id = 12").execute(s.pool()).await.unwrap();
        assert_eq!(s.verify_audit().await.unwrap(), AuditVerdict::Broken { line: 12, why: "modifiée après son enregistrement".into() });
        sqlx::query("UPDATE audit_log SET client = '192.0.2.7' WHERE id = 12").execute(s.pool()).await.unwrap();
        assert!(matches!(s.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
        sqlx::query("DELETE FROM audit_log WHERE id = 20").execute(s.pool()).await.unwrap();
        assert_eq!(s.verify_audit().await.unwrap(), AuditVerdict::Broken { line: 20, why: "ligne manquante".into() });
        sqlx::query("DELETE FROM audit_log WHERE id >= 20").execute(s.pool()).await.unwrap();
        assert!(matches!(s.verify_audit().await.unwrap(), AuditVerdict::Broken { line: 20, ref why } if why.starts_with("les dernières lignes manquent")));
    }
}

both_engines! {
    async fn an_organisation_reads_its_own_lines(db) {
        let s = &db.store;
        let mut mine = line(1);
        (mine.role, mine.org_id) = ("funder".into(), Some(7));
        s.append_audit(&mine).await.unwrap();
        s.append_audit(&line(2)).await.unwrap();
        let mut other = line(3);
        (other.role, other.org_id) = ("funder".into(), Some(8));
        s.append_audit(&other).await.unwrap();
        let seen = s.audit_entries(Some(("funder", 7)), 50, 0).await.unwrap();
        assert_eq!(seen.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>(), ["staff:1"]);
        assert_eq!(s.audit_entries(None, 50, 0).await.unwrap().len(), 3);
    }
}
