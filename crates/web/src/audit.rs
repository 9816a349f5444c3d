//! Recording the audit trail: every request that changed something (a write method answered
//! below 400) by a signed-in person or a token becomes a line, with who, the route and path,
//! the status and the client's address. The sign-in extractors say who through [`Caller`];
//! the store chains the lines (`passnum_store::Store::append_audit`).
//!
//! Redemptions are left out: each one is already in the ledger with its venue and time, and the
//! scan is the hot path. Signing in and out change nothing in the books.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::extract::ConnectInfo;
use axum::http::{Method, request::Parts};
use passnum_store::{Actor, NewAuditEntry};

use crate::AppState;

/// Who made the request, once a sign-in extractor knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerId {
    /// `staff:12`, or `token:` and the start of the token's hash.
    pub actor: String,
    pub role: &'static str,
    pub org_id: Option<i64>,
}

impl CallerId {
    pub fn staff(id: i64, actor: Actor) -> Self {
        Self::of(format!("staff:{id}"), actor)
    }

    pub fn token(hash: &str, actor: Actor) -> Self {
        Self::of(format!("token:{}", &hash[..hash.len().min(12)]), actor)
    }

    fn of(who: String, actor: Actor) -> Self {
        Self {
            actor: who,
            role: actor.role().as_str(),
            org_id: (actor != Actor::Operator).then(|| actor.actor_id()),
        }
    }
}

/// The slot a request carries for its caller.
#[derive(Clone, Default)]
pub struct Caller(Arc<OnceLock<CallerId>>);

impl Caller {
    /// Called by the sign-in extractors; `id` is made only for a request that may be recorded
    /// (not on the redemption path).
    pub fn set(parts: &Parts, id: impl FnOnce() -> CallerId) {
        if let Some(slot) = parts.extensions.get::<Caller>() {
            let _ = slot.0.set(id());
        }
    }
}

/// Routes whose writes are not recorded (see the module's comment), and the previews that
/// are POSTed but change nothing.
const NOT_RECORDED: &[&str] = &[
    "/api/v1/redemptions",
    "/lieu/encaisser",
    "/connexion",
    "/deconnexion",
    "/verifier",
    "/api/v1/orders/{id}/allocation-preview",
    "/api/v1/payment-runs/preview",
];

/// Marks the answer of a write request that changed nothing (a preview, a question asked
/// again): no audit line.
#[derive(Clone, Copy)]
pub struct Unchanged;

pub fn unchanged(mut r: axum::response::Response) -> axum::response::Response {
    r.extensions_mut().insert(Unchanged);
    r
}

/// What the answer says for the trail (read before any await: a response is not `Sync`).
pub struct Answered {
    status: u16,
    unchanged: bool,
}

impl Answered {
    pub fn of(r: &axum::response::Response) -> Self {
        Self {
            status: r.status().as_u16(),
            unchanged: r.extensions().get::<Unchanged>().is_some(),
        }
    }
}

/// What a request needs kept to be recorded once answered.
pub struct Pending {
    caller: Caller,
    method: Method,
    route: String,
    path: String,
    client: IpAddr,
}

impl Pending {
    /// A slot for the request's caller, if the request may change something.
    pub fn start(st: &AppState, req: &mut axum::extract::Request, route: &str) -> Option<Self> {
        let method = req.method().clone();
        if method.is_safe() || NOT_RECORDED.contains(&route) {
            return None;
        }
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let caller = Caller::default();
        req.extensions_mut().insert(caller.clone());
        Some(Self {
            caller,
            method,
            route: route.to_string(),
            path: req.uri().path().chars().take(300).collect(),
            client: st.deploy.client_ip(peer, req.headers()),
        })
    }

    /// Records the line when the request changed something; a failure to record is logged
    /// (the change itself is done and answered).
    pub async fn finish(self, st: &AppState, answer: Answered) {
        let Some(who) = self.caller.0.get() else {
            return;
        };
        let Answered { status, unchanged } = answer;
        if status >= 400 || unchanged {
            return;
        }
        let line = NewAuditEntry {
            actor: who.actor.clone(),
            role: who.role.to_string(),
            org_id: who.org_id,
            action: format!("{} {}", self.method, self.route),
            target: self.path,
            status,
            client: self.client.to_string(),
            at: st.clock.now(),
        };
        if let Err(e) = st.store.append_audit(&line).await {
            tracing::error!(error = %e, action = %line.action, "journal d'audit : ligne non écrite");
        }
    }
}
