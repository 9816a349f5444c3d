//! Read-your-writes when reads may go to a replica (`--read-database-url`).
//!
//! After a browser changes something (any successful request other than GET or HEAD), the
//! answer carries the primary's WAL position in a short cookie; the browser's next requests run
//! under [`passnum_store::read_after`], so that a page showing the change (the list the form
//! led back to, the dashboard, the public page of a venue just edited) reads the primary until
//! the replica has replayed that far. The cookie lives as long as the allowed lag: after that,
//! a replica fresh enough to be used has the change anyway.
//!
//! Only browsers get it (requests carrying passnum's session or CSRF cookie): programs calling
//! the API, such as scanners redeeming thousands of cheques, would pay one more query per
//! request for a cookie they do not keep. Their listings may lag by the allowed lag at most.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::ui::session::{CSRF_COOKIE, SESSION_COOKIE, cookie, set_cookie};

pub const SEEN_COOKIE: &str = "passnum_vu";

pub async fn follow_writes(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Some(view) = st.store.replica_view() else {
        return next.run(req).await;
    };
    let headers = req.headers();
    let browser =
        cookie(headers, SESSION_COOKIE).is_some() || cookie(headers, CSRF_COOKIE).is_some();
    let seen = cookie(headers, SEEN_COOKIE).and_then(|v| u64::from_str_radix(&v, 16).ok());
    let changes = !req.method().is_safe();
    let mut response = passnum_store::read_after(seen, next.run(req)).await;
    let done = response.status().is_success() || response.status().is_redirection();
    if browser && changes && done {
        match st.store.primary_position().await {
            Ok(Some(position)) => {
                let max_age = view.max_lag.as_secs() + 1;
                let value = set_cookie(SEEN_COOKIE, &format!("{position:016x}"), max_age as i64);
                if let Ok(v) = HeaderValue::from_str(&value) {
                    response.headers_mut().append(SET_COOKIE, v);
                }
            }
            Ok(None) => {}
            // The change is made; only the next page may read the replica a little early.
            Err(e) => tracing::warn!(error = %e, "position du primaire illisible"),
        }
    }
    response
}
