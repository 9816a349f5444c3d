//! The accept loop: HTTP/1.1 connections with time limits, and a clean stop.
//!
//! On the public internet a client may open a connection and never finish its request: the
//! header-read limit closes it (and, as hyper starts that clock again for each request on a
//! kept-alive connection, an idle one too), and the body limit stops a body that trickles.
//! On SIGTERM or SIGINT the server stops accepting, lets every request in flight finish (a
//! redemption gets the answer of its commit), then returns; connections still busy after the
//! grace period are dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Time a client has to send a request's headers, and to start its next one.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(15);
/// Time a request's body has to arrive (an upload of a few megabytes on a slow line).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Time left to requests in flight when the server is asked to stop.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The most a connection buffers for a request head.
pub const MAX_HEAD_BUFFER: usize = 64 * 1024;

pub async fn serve(
    listener: TcpListener,
    router: Router,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        // Room for a request head a little over passnum's own limits, so that the router can
        // tell the client which one it crossed (a JSON or page answer); beyond, the connection
        // refuses on its own (431, no body) and holds no more memory per client.
        .max_buf_size(MAX_HEAD_BUFFER)
        .max_headers(2 * crate::api::MAX_HEADERS);
    let builder = builder.http1_only();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors, for instance: wait rather than spin.
                        tracing::warn!(error = %e, "connexion refusée");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let app = router.clone().map_request(move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    req
                });
                let conn = builder
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    tracing::info!("arrêt demandé : fin des requêtes en cours");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("arrêt : des connexions étaient encore actives après le délai de grâce");
    }
    Ok(())
}

/// SIGTERM (systemd, Docker, Kubernetes) or SIGINT (Ctrl-C).
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
