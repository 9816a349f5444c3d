//! How this server sits on the public internet: its public address, the reverse proxies it
//! trusts, and what every answer carries for the browser (cookies, security headers).
//!
//! One layer around every route does the transport work, so that handlers never think about
//! it: with an `https://` public address, passnum's cookies travel as `__Host-` cookies with
//! `Secure` (a sibling sub-domain or a network attacker cannot set them), HSTS is sent, and the
//! security headers go on every answer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::AppState;

/// The prefix of every cookie passnum sets.
const OWN_COOKIE_PREFIX: &str = "passnum_";
/// What the browser holds when the site is served over HTTPS.
const HOST_PREFIX: &str = "__Host-";

/// Scripts and styles only from this site (no inline code), no framing, no plugins; images
/// may be `data:` URIs (the DSFR icons and QR codes).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Two years, as the HSTS preload list asks.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Where this server is reached and who sits in front of it.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// `https://pass.example.fr`, without a final `/`: links in e-mails, letters and pages are
    /// built from it, never from the request's `Host`.
    pub public_url: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
}

impl Deployment {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_string(),
            trusted_proxies: Vec::new(),
        }
    }

    /// True when browsers reach this server over HTTPS.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted_proxies.iter().any(|n| n.contains(&ip))
    }

    /// The address of the client: the TCP peer, or, when the peer is a trusted proxy, the
    /// nearest address of `X-Forwarded-For` that is not one (the proxies append to the right,
    /// and anything left of the first untrusted hop may be invented by the client).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|h| h.trim().parse::<IpAddr>().ok())
            .map(canonical)
            .collect();
        hops.iter()
            .rev()
            .find(|ip| !self.trusts(**ip))
            .or(hops.first())
            .copied()
            .unwrap_or(peer)
    }
}

/// `::ffff:1.2.3.4` and `1.2.3.4` are the same client.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// A `--trusted-proxy` value: an address or a network in CIDR notation.
pub fn parse_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("« {s} » n'est pas une adresse IP ni un réseau (par exemple 10.0.0.0/8 ou 127.0.0.1).")
        })
}

/// The client's address, as [`Deployment::client_ip`] tells it.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(Self(st.deploy.client_ip(peer, &parts.headers)))
    }
}

/// Wraps every route in the transport layer (one middleware; measured cheaper than one
/// header layer per header): security headers on every answer, and, over HTTPS, HSTS and
/// host-only secure cookies.
pub fn layers(router: axum::Router, deploy: &Deployment) -> axum::Router {
    let https = deploy.is_https();
    router.layer(axum::middleware::from_fn(move |req, next| {
        transport(https, req, next)
    }))
}

async fn transport(https: bool, mut req: Request, next: Next) -> Response {
    if https {
        unwrap_host_cookies(req.headers_mut());
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // Room for what follows at once, rather than growing the map header by header.
    h.reserve(6);
    if https {
        wrap_host_cookies(h);
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    // A page, an API answer or a download (booklets, statements and exports hold redeemable
    // codes or bank details) is never kept by a cache; static files and the published keys
    // set their own caching.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Handlers read `passnum_x`; over HTTPS only `__Host-passnum_x` is believed, and a plain
/// `passnum_x` (which anyone on a sibling sub-domain could have set) is dropped.
fn unwrap_host_cookies(headers: &mut HeaderMap) {
    let kept: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|kv| !kv.is_empty() && !kv.starts_with(OWN_COOKIE_PREFIX))
        .map(|kv| kv.strip_prefix(HOST_PREFIX).unwrap_or(kv).to_string())
        .collect();
    headers.remove(header::COOKIE);
    if !kept.is_empty()
        && let Ok(v) = HeaderValue::from_str(&kept.join("; "))
    {
        headers.insert(header::COOKIE, v);
    }
}

/// `passnum_x=…; Path=/; …` → `__Host-passnum_x=…; Path=/; …; Secure`.
fn wrap_host_cookies(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for c in cookies {
        let wrapped = c
            .to_str()
            .ok()
            .filter(|s| s.starts_with(OWN_COOKIE_PREFIX))
            .and_then(|s| HeaderValue::from_str(&format!("{HOST_PREFIX}{s}; Secure")).ok());
        headers.append(header::SET_COOKIE, wrapped.unwrap_or(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn behind(proxies: &[&str]) -> Deployment {
        let mut d = Deployment::new("https://pass.example.fr/");
        d.trusted_proxies = proxies.iter().map(|p| parse_proxy(p).unwrap()).collect();
        d
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let none = behind(&[]);
        assert_eq!(
            none.client_ip(ip("203.0.113.9"), &xff("198.51.100.1")),
            ip("203.0.113.9")
        );
        let d = behind(&["10.0.0.0/8", "127.0.0.1"]);
        // From the proxy: the nearest untrusted hop; what the client wrote on the left is ignored.
        assert_eq!(
            d.client_ip(ip("10.1.2.3"), &xff("1.1.1.1, 198.51.100.7, 10.9.9.9")),
            ip("198.51.100.7")
        );
        assert_eq!(
            d.client_ip(ip("::ffff:127.0.0.1"), &xff("198.51.100.8")),
            ip("198.51.100.8")
        );
        // Directly from the internet: the header is not believed.
        assert_eq!(
            d.client_ip(ip("203.0.113.9"), &xff("198.51.100.1")),
            ip("203.0.113.9")
        );
        // From the proxy without a usable header: the proxy itself.
        assert_eq!(
            d.client_ip(ip("10.1.2.3"), &xff("n'importe quoi")),
            ip("10.1.2.3")
        );
        assert!(parse_proxy("10.0.0.0/33").is_err());
        assert!(parse_proxy("proxy.local").unwrap_err().ends_with('.'));
        assert_eq!(d.public_url, "https://pass.example.fr");
    }

    #[test]
    fn over_https_only_host_prefixed_cookies_are_believed_and_set() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static(
                "passnum_session=forged; __Host-passnum_session=real; theme=dark",
            ),
        );
        unwrap_host_cookies(&mut h);
        assert_eq!(h[header::COOKIE], "passnum_session=real; theme=dark");

        let mut h = HeaderMap::new();
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_static("passnum_csrf=abc; Path=/; HttpOnly"),
        );
        h.append(header::SET_COOKIE, HeaderValue::from_static("other=1"));
        wrap_host_cookies(&mut h);
        let set: Vec<_> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(
            set,
            [
                "__Host-passnum_csrf=abc; Path=/; HttpOnly; Secure",
                "other=1"
            ]
        );
    }
}
