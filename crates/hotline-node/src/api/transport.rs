//! How the API address is served: HTTPS or plain HTTP, and to which `Host`.
//!
//! Plain HTTP off loopback is refused unless explicitly allowed: the token,
//! passwords and session cookies would cross the network readable, and
//! browsers refuse the console's `Secure` cookies there anyway. The `Host`
//! allow-list closes DNS rebinding: a page on `evil.example` whose name
//! later resolves to this node's address reaches the node from the browser
//! with `Host: evil.example`, and is answered 421 before any handler runs.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::dir::{ApiConfig, NodeDir};
use crate::tls::ApiCert;

/// What the API address speaks.
pub enum Transport {
    /// Plain HTTP (loopback, or explicitly allowed).
    Plain,
    /// HTTPS with this certificate.
    Tls(Arc<ApiCert>),
}

impl Transport {
    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Transport::Plain => "http",
            Transport::Tls(_) => "https",
        }
    }
    /// The certificate, when HTTPS.
    pub fn cert(&self) -> Option<&Arc<ApiCert>> {
        match self {
            Transport::Plain => None,
            Transport::Tls(c) => Some(c),
        }
    }
}

/// The host part of a listen address (`10.77.0.1:7700` → `10.77.0.1`,
/// `[::1]:0` → `::1`), unless it is the unspecified address, which names
/// no host.
pub fn listen_host(listen: &str) -> Option<String> {
    let host = match listen.parse::<SocketAddr>() {
        Ok(a) if a.ip().is_unspecified() => return None,
        Ok(a) => a.ip().to_string(),
        Err(_) => listen
            .rsplit_once(':')
            .map_or(listen, |(h, _)| h)
            .to_owned(),
    };
    (!host.is_empty()).then_some(host)
}

/// Decides how to serve `bound` from `config` (`insecure` is
/// `--insecure-plain-http`); loads the certificate, or makes one naming the
/// listen host if the default files are missing (a directory from before
/// HTTPS).
///
/// # Errors
///
/// Plain HTTP off loopback without the insecure switch, or a certificate
/// that cannot be read or made; the message says what to do.
pub fn choose(
    dir: &NodeDir,
    party: &str,
    config: &ApiConfig,
    bound: SocketAddr,
    insecure: bool,
) -> Result<Transport, String> {
    let loopback = bound.ip().is_loopback();
    let tls = config.tls.unwrap_or(!loopback);
    if !tls {
        if loopback || insecure || config.insecure_plain_http {
            return Ok(Transport::Plain);
        }
        return Err(format!(
            "refusing to serve the API and console in plain HTTP on {bound}, which is not a loopback address: the API token, passwords and session cookies would cross the network readable. Leave `tls` unset (or set `tls = true`) in [api] of {} to serve HTTPS, or, only on a network where every machine may read them, pass --insecure-plain-http",
            dir.config().display()
        ));
    }
    let (key, cert) = (dir.api_key(config), dir.api_cert(config));
    let given = config.tls_cert.is_some() || config.tls_key.is_some();
    let loaded = if !given && !key.exists() && !cert.exists() {
        let names: Vec<String> = listen_host(&bound.to_string()).into_iter().collect();
        ApiCert::generate(party, &names, &key, &cert, false)
    } else {
        ApiCert::load(&key, &cert)
    };
    loaded.map(|c| Transport::Tls(Arc::new(c))).map_err(|e| {
        format!("the API's HTTPS certificate: {e} (make a new one with `hotline tls regenerate --dir {}`)", dir.root().display())
    })
}

/// The `Host` values the API answers to.
#[derive(Clone)]
pub struct AllowedHosts {
    names: Arc<Vec<String>>,
    cert: Option<Arc<ApiCert>>,
}

impl AllowedHosts {
    /// `localhost`, the loopback addresses, `bound`'s address (unless
    /// unspecified), `extra` and, when given, every name `cert` carries.
    pub fn new(bound: SocketAddr, cert: Option<Arc<ApiCert>>, extra: &[String]) -> Self {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        names.extend(listen_host(&bound.to_string()));
        names.extend(extra.iter().map(|h| bare(h).to_ascii_lowercase()));
        Self {
            names: Arc::new(names),
            cert,
        }
    }

    /// Whether a request with this `Host` header value is answered.
    pub fn allows(&self, host_header: &str) -> bool {
        let host = bare(host_header).to_ascii_lowercase();
        if host.is_empty() {
            return false;
        }
        let same = |n: &String| match (n.parse::<IpAddr>(), host.parse::<IpAddr>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => *n == host,
        };
        self.names.iter().any(same) || self.cert.as_ref().is_some_and(|c| c.names(&host))
    }
}

/// The host of a `Host` value: without port, brackets or a trailing dot.
fn bare(host: &str) -> &str {
    let host = host.trim();
    let host = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else if host.matches(':').count() == 1 {
        host.split_once(':').map_or(host, |(h, _)| h)
    } else {
        host
    };
    host.strip_suffix('.').unwrap_or(host)
}

/// Answers 421 (or 400 without a `Host`) unless the request's `Host` is
/// allowed.
pub async fn check_host(State(allowed): State<AllowedHosts>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        None => (
            StatusCode::BAD_REQUEST,
            "this request has no Host header; HTTP/1.1 requires one\n",
        )
            .into_response(),
        Some(h) if allowed.allows(&h) => next.run(req).await,
        Some(h) => (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this node does not answer to the host name {:?}: open it by an address or name it serves (localhost, its listen address, the names in its certificate), or add the name to allowed_hosts in [api] of hotline.toml\n",
                bare(&h)
            ),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_values_lose_port_brackets_and_trailing_dot() {
        assert_eq!(bare("localhost:7700"), "localhost");
        assert_eq!(bare("[::1]:7700"), "::1");
        assert_eq!(bare("::1"), "::1");
        assert_eq!(bare("duty.example."), "duty.example");
        assert_eq!(bare(" 10.77.0.2 "), "10.77.0.2");
    }

    #[test]
    fn the_listen_host_is_named_unless_unspecified() {
        assert_eq!(listen_host("10.77.0.2:7700").as_deref(), Some("10.77.0.2"));
        assert_eq!(listen_host("[::1]:0").as_deref(), Some("::1"));
        assert_eq!(listen_host("0.0.0.0:7700"), None);
        assert_eq!(listen_host("[::]:7700"), None);
        assert_eq!(
            listen_host("duty.example:7700").as_deref(),
            Some("duty.example")
        );
    }

    #[test]
    fn only_the_nodes_own_names_are_allowed() {
        let bound: SocketAddr = "10.77.0.2:7443".parse().unwrap();
        let a = AllowedHosts::new(bound, None, &["Duty.Example".into()]);
        for ok in [
            "localhost",
            "LOCALHOST:1",
            "127.0.0.1:7443",
            "[::1]:7443",
            "10.77.0.2:7443",
            "duty.example",
        ] {
            assert!(a.allows(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "10.77.0.3",
            "localhost.evil.example",
            "127.0.0.2",
        ] {
            assert!(!a.allows(bad), "{bad}");
        }
    }
}
