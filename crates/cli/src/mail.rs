//! `passnum mail status`: what the outbox holds, for the operations team (never the content).

use clap::Subcommand;
use passnum_core::paris;

use crate::ctx::Ctx;

#[derive(Subcommand)]
pub enum MailCommand {
    /// Counts of e-mails waiting, sent and failed, then the latest ones (kind, recipient,
    /// attempts, last error), newest first.
    Status {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

pub async fn run(ctx: &Ctx, command: MailCommand) -> anyhow::Result<()> {
    let MailCommand::Status { limit } = command;
    let store = ctx.store().await?;
    let c = store.outbox_counts().await?;
    println!(
        "E-mails : {} en attente, {} envoyés, {} en échec (gardés 90 jours).",
        c.pending, c.sent, c.failed
    );
    for l in store.outbox_lines(limit.clamp(1, 500)).await? {
        let status = match l.status.as_str() {
            "pending" => "en attente",
            "sent" => "envoyé",
            _ => "échec",
        };
        println!(
            "n° {} · {} · {} · {} · {} · {} tentative(s){}",
            l.id,
            paris::format_moment(l.created_at),
            l.kind,
            l.recipient,
            status,
            l.attempts,
            l.last_error.map(|e| format!(" · {e}")).unwrap_or_default()
        );
    }
    Ok(())
}
