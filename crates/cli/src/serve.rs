//! `passnum serve`, `passnum demo` and `passnum migrate`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use passnum_app::SystemClock;
use passnum_store::{ReplicaOptions, Store, StoreOptions};
use passnum_web::{AppState, Application};

use crate::ctx::Ctx;
use crate::{demo, orders};

/// What `passnum serve` takes besides its address and e-mail settings.
pub struct ServeOptions {
    pub rollback_window_hours: i64,
    pub admin_listen: Option<SocketAddr>,
    pub replica: Option<ReplicaOptions>,
    pub redeem_writers: usize,
}

pub async fn serve_command(
    ctx: &Ctx,
    listen: SocketAddr,
    options: ServeOptions,
    mail: MailOptions,
) -> anyhow::Result<()> {
    if !(0..=24 * 30).contains(&options.rollback_window_hours) {
        bail!("--rollback-window-hours doit être compris entre 0 et 720");
    }
    if options
        .replica
        .as_ref()
        .is_some_and(|r| !(1..=3600).contains(&r.max_lag.as_secs()))
    {
        bail!("--read-max-lag-seconds doit être compris entre 1 et 3600");
    }
    if !(1..=64).contains(&options.redeem_writers) {
        bail!("--redeem-writers doit être compris entre 1 et 64");
    }
    let store_options = StoreOptions {
        rollback_window_ms: options.rollback_window_hours * 3_600_000,
        replica: options.replica,
        redeem_workers: options.redeem_writers,
        ..Default::default()
    };
    let store = ctx.store_with("passnum.db", store_options).await?;
    serve(ctx, store, listen, options.admin_listen, mail).await
}

/// What reaches people and signs them in from outside: `--smtp-url` and `--mail-from`, and
/// ProConnect's issuer, client id and secret.
#[derive(Default)]
pub struct MailOptions {
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub proconnect: Option<(String, String, String)>,
}

pub async fn demo(ctx: &Ctx, listen: SocketAddr, no_serve: bool) -> anyhow::Result<()> {
    let store = ctx
        .store_with("passnum-demo.db", StoreOptions::default())
        .await?;
    let key = orders::signing_key(&store, &ctx.signing_key).await?;
    demo::create(&store, listen, true, Some(&key)).await?;
    if no_serve {
        Ok(())
    } else {
        serve(ctx, store, listen, None, MailOptions::default()).await
    }
}

pub async fn migrate(ctx: &Ctx) -> anyhow::Result<()> {
    ctx.store().await?;
    crate::ctx::say("Base à jour.");
    Ok(())
}

/// The address a person would type for a server listening on `listen` (an unspecified address
/// such as 0.0.0.0 is reached as localhost).
fn app_listen(listen: SocketAddr) -> SocketAddr {
    if listen.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], listen.port()))
    } else {
        listen
    }
}

/// Serves with the key files and public address of the command line.
async fn serve(
    ctx: &Ctx,
    store: Store,
    listen: SocketAddr,
    admin_listen: Option<SocketAddr>,
    mail: MailOptions,
) -> anyhow::Result<()> {
    let key = orders::signing_key(&store, &ctx.signing_key).await?;
    let household = orders::household_key(&store, &ctx.household_key).await?;
    let state = AppState::new(store.clone(), Arc::new(SystemClock))
        .with_signer(key)
        .with_household_key(household)
        .with_public_url(&ctx.public_url_for(app_listen(listen)))
        .with_trusted_proxies(&ctx.trusted_proxies)
        .map_err(|e| anyhow::anyhow!("--trusted-proxy : {e}"))?;
    if let Some(admin) = admin_listen {
        let listener = tokio::net::TcpListener::bind(admin)
            .await
            .with_context(|| format!("écoute d'administration sur {admin}"))?;
        crate::ctx::say(format!(
            "administration (/metrics, /livez, /readyz) sur http://{admin}"
        ));
        let router = passnum_web::ops::admin_router(state.clone());
        // Stops on the same signal as the public address; the process ends with the latter.
        tokio::spawn(passnum_web::server::serve(
            listener,
            router,
            passnum_web::server::stop_signal(),
        ));
    }
    let public_url = state.deploy.public_url.clone();
    let state = match mail.proconnect {
        Some((issuer, client_id, client_secret)) => {
            let settings = passnum_app::proconnect::Settings {
                issuer,
                client_id,
                client_secret,
                public_url: public_url.clone(),
            };
            // Read once at start: a wrong issuer or an unreachable provider stops here, with
            // the reason, rather than at the first person's sign-in.
            let pc = passnum_app::proconnect::ProConnect::discover(&settings).await?;
            crate::ctx::say(format!("connexion ProConnect par {}", settings.issuer));
            state.with_proconnect(pc)
        }
        None => state,
    };
    let mailer = match mail.smtp_url {
        Some(url) => {
            let from = mail.mail_from.context(
                "--mail-from est nécessaire avec --smtp-url : l'adresse d'expéditeur des e-mails",
            )?;
            let mailer = passnum_app::mail::Mailer::new(&url, &from, &public_url)?;
            crate::ctx::say(format!(
                "e-mails envoyés par le serveur SMTP, expéditeur {from}"
            ));
            Some(tokio::spawn(passnum_app::mail::run(
                Arc::new(mailer),
                store.clone(),
                Arc::new(SystemClock),
                passnum_web::server::stop_signal(),
            )))
        }
        None => None,
    };
    let app = Application::build(state, listen)
        .await
        .with_context(|| format!("écoute sur {listen}"))?;
    crate::ctx::say(format!(
        "passnum écoute sur http://{}  (API : /api/v1, documentation : /api/v1/openapi.json)",
        app.local_addr()
    ));
    // Returns on SIGTERM or SIGINT, once the requests in flight are answered.
    app.run_until_stopped().await?;
    if let Some(worker) = mailer {
        // The same signal stopped it: it finishes the message in hand.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), worker).await;
    }
    store.close().await;
    crate::ctx::say("passnum arrêté proprement.");
    Ok(())
}
