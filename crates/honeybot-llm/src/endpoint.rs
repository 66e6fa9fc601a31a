//! Where the model server is: `OLLAMA_HOST` parsing, chat URLs, loopback handling.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;

use crate::client::Provider;
use crate::error::LlmError;

/// Ollama's default address. `127.0.0.1`, not `localhost`: Ollama listens on IPv4 only by
/// default, and `localhost` may resolve to `::1` first.
pub const OLLAMA_DEFAULT_HOST: &str = "http://127.0.0.1:11434";

/// The base URL of a model server, normalised for connecting.
///
/// Wildcard listen addresses (`0.0.0.0`, `::`, a common `OLLAMA_HOST` value on the server
/// side) are rewritten to the matching loopback address. `localhost` is kept in the URL (it is
/// the `Host` header) but is connected to as 127.0.0.1 first and `::1` second, see
/// [`Endpoint::loopback_overrides`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    base: Url,
}

impl Endpoint {
    /// Parses a configured endpoint: a URL (`http://host:port[/prefix]`), or `host:port`
    /// without a scheme (taken as `http`).
    ///
    /// # Errors
    /// [`LlmError::InvalidEndpoint`] when it is not an http(s) URL with a host.
    pub fn parse(text: &str) -> Result<Self, LlmError> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| LlmError::InvalidEndpoint {
            endpoint: text.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_url(url, text)
    }

    /// The endpoint `OLLAMA_HOST` designates, read the way the `ollama` CLI reads it: `host`,
    /// `host:port`, `:port`, `scheme://host[:port][/path]`, IPv6 in brackets, surrounding
    /// quotes and spaces ignored. Unset or empty means `http://127.0.0.1:11434`. Without a
    /// port, `http://` means port 80 and `https://` port 443 (as in Ollama); without a scheme
    /// the port defaults to 11434.
    ///
    /// # Errors
    /// [`LlmError::InvalidEndpoint`] for an unknown scheme or a port that is not a number.
    pub fn from_ollama_host(value: Option<&str>) -> Result<Self, LlmError> {
        let url = parse_ollama_host(value.unwrap_or(""))?;
        Self::from_url(url, value.unwrap_or(""))
    }

    fn from_url(mut url: Url, original: &str) -> Result<Self, LlmError> {
        let invalid = |reason: &str| LlmError::InvalidEndpoint {
            endpoint: original.to_owned(),
            reason: reason.to_owned(),
        };
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(invalid("the scheme must be http or https"));
        }
        match url.host() {
            None => return Err(invalid("no host")),
            Some(url::Host::Ipv4(ip)) if ip.is_unspecified() => {
                url.set_ip_host(IpAddr::V4(Ipv4Addr::LOCALHOST))
                    .map_err(|()| invalid("cannot set host"))?;
            }
            Some(url::Host::Ipv6(ip)) if ip.is_unspecified() => {
                url.set_ip_host(IpAddr::V6(Ipv6Addr::LOCALHOST))
                    .map_err(|()| invalid("cannot set host"))?;
            }
            Some(_) => {}
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a query or fragment is not allowed"));
        }
        Ok(Self { base: url })
    }

    /// The base URL as normalised.
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// True when the server is on this machine (loopback address or `localhost`): the prompt
    /// never leaves the machine.
    #[must_use]
    pub fn is_local(&self) -> bool {
        match self.base.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        }
    }

    /// The chat URL of `provider` under this base: `/api/chat` for Ollama,
    /// `/v1/chat/completions` for OpenAI-compatible servers (a base already ending in `/v1`
    /// or in the full path is used as given).
    #[must_use]
    pub fn chat_url(&self, provider: Provider) -> Url {
        let mut url = self.base.clone();
        let path = url.path().trim_end_matches('/').to_owned();
        let full = match provider {
            Provider::Ollama if path.ends_with("/api/chat") => path,
            Provider::Ollama => format!("{path}/api/chat"),
            Provider::OpenAi if path.ends_with("/chat/completions") => path,
            Provider::OpenAi if path.ends_with("/v1") => format!("{path}/chat/completions"),
            Provider::OpenAi => format!("{path}/v1/chat/completions"),
        };
        url.set_path(&full);
        url
    }

    /// For a `localhost` endpoint, the addresses to connect to instead of asking the resolver:
    /// 127.0.0.1 first, then `::1`. Avoids the classic failure where `localhost` resolves to
    /// `::1` while Ollama listens on 127.0.0.1 only, and still reaches a server that listens
    /// on `::1` only.
    #[must_use]
    pub fn loopback_overrides(&self) -> Option<(String, Vec<SocketAddr>)> {
        match self.base.host() {
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => Some((
                d.to_owned(),
                vec![
                    SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                    SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
                ],
            )),
            _ => None,
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.base.as_str().trim_end_matches('/'))
    }
}

/// Parses an `OLLAMA_HOST` value into a URL, mirroring Ollama's own `envconfig.Host()`.
///
/// # Errors
/// [`LlmError::InvalidEndpoint`] for an unknown scheme or an invalid port.
pub fn parse_ollama_host(value: &str) -> Result<Url, LlmError> {
    let invalid = |reason: String| LlmError::InvalidEndpoint {
        endpoint: value.to_owned(),
        reason,
    };
    let trimmed = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    let (scheme, rest, default_port) = match trimmed.split_once("://") {
        None => ("http", trimmed, 11434),
        Some(("http", rest)) => ("http", rest, 80),
        Some(("https", rest)) => ("https", rest, 443),
        Some((other, _)) => return Err(invalid(format!("unsupported scheme {other:?}"))),
    };
    let rest = rest.trim_end_matches('/');
    let (hostport, path) = match rest.split_once('/') {
        Some((hp, p)) => (hp, p),
        None => (rest, ""),
    };
    let (host, port) = match split_host_port(hostport) {
        Some((host, port)) => {
            let port: u16 = port
                .parse()
                .map_err(|_| invalid(format!("invalid port {port:?}")))?;
            (host.to_owned(), port)
        }
        None => {
            let bare = hostport.trim_start_matches('[').trim_end_matches(']');
            let host = if bare.parse::<IpAddr>().is_ok() || !hostport.is_empty() {
                bare.to_owned()
            } else {
                String::new()
            };
            (host, default_port)
        }
    };
    let host = if host.is_empty() {
        "127.0.0.1".to_owned()
    } else {
        host
    };
    let host = if host.parse::<Ipv6Addr>().is_ok() {
        format!("[{host}]")
    } else {
        host
    };
    let url = format!("{scheme}://{host}:{port}/{path}");
    Url::parse(&url).map_err(|e| invalid(e.to_string()))
}

/// Go's `net.SplitHostPort`: `host:port` or `[v6]:port`; `None` when there is no port.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(inner) = s.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return Some((host, port));
    }
    let (host, port) = s.rsplit_once(':')?;
    if host.contains(':') {
        return None; // a bare IPv6 address
    }
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(v: &str) -> String {
        Endpoint::from_ollama_host(Some(v))
            .map(|e| e.to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn ollama_host_forms_match_the_ollama_cli() {
        assert_eq!(host(""), "http://127.0.0.1:11434");
        assert_eq!(host("  \"\"  "), "http://127.0.0.1:11434");
        assert_eq!(host("gpu-box"), "http://gpu-box:11434");
        assert_eq!(host("gpu-box:8080"), "http://gpu-box:8080");
        assert_eq!(host(":12345"), "http://127.0.0.1:12345");
        // With a scheme and no port, Ollama uses the scheme's port (shown without it).
        assert_eq!(host("http://gpu-box"), "http://gpu-box");
        assert_eq!(host("https://gpu-box"), "https://gpu-box");
        assert_eq!(
            host("https://gpu-box:8443/ollama/"),
            "https://gpu-box:8443/ollama"
        );
        assert_eq!(host("'10.0.0.7:11434'"), "http://10.0.0.7:11434");
        assert_eq!(host("[fe80::1]:9000"), "http://[fe80::1]:9000");
        assert_eq!(host("fe80::1"), "http://[fe80::1]:11434");
        assert!(
            host("gpu-box:http").starts_with("error"),
            "{}",
            host("gpu-box:http")
        );
        assert!(host("ftp://x").starts_with("error"));
    }

    #[test]
    fn wildcard_listen_addresses_mean_this_machine() {
        assert_eq!(host("0.0.0.0"), "http://127.0.0.1:11434");
        assert_eq!(host("0.0.0.0:9999"), "http://127.0.0.1:9999");
        assert_eq!(host("[::]:11434"), "http://[::1]:11434");
        assert!(Endpoint::from_ollama_host(Some("0.0.0.0")).is_ok_and(|e| e.is_local()));
    }

    #[test]
    fn locality() {
        let local = |s: &str| Endpoint::parse(s).is_ok_and(|e| e.is_local());
        assert!(local("http://127.0.0.1:11434"));
        assert!(local("http://LOCALHOST:8080"));
        assert!(local("[::1]:8080"));
        assert!(!local("http://gpu-box.lan:11434"));
        assert!(!local("https://api.example.com/v1"));
    }

    #[test]
    fn chat_urls() {
        let url = |s: &str, p| Endpoint::parse(s).map(|e| e.chat_url(p).to_string()).ok();
        let (o, a) = (Provider::Ollama, Provider::OpenAi);
        assert_eq!(
            url("127.0.0.1:11434", o).as_deref(),
            Some("http://127.0.0.1:11434/api/chat")
        );
        assert_eq!(
            url("http://h:1/api/chat", o).as_deref(),
            Some("http://h:1/api/chat")
        );
        assert_eq!(
            url("http://h:8080", a).as_deref(),
            Some("http://h:8080/v1/chat/completions")
        );
        assert_eq!(
            url("http://h:1/v1/", a).as_deref(),
            Some("http://h:1/v1/chat/completions")
        );
        assert_eq!(
            url("http://h:1/x/chat/completions", a).as_deref(),
            Some("http://h:1/x/chat/completions")
        );
    }

    #[test]
    fn localhost_is_tried_on_ipv4_first() {
        let e = Endpoint::parse("http://localhost:11434").ok();
        let o = e.and_then(|e| e.loopback_overrides());
        let addrs = o.map(|(_, a)| a).unwrap_or_default();
        assert_eq!(addrs.first().map(SocketAddr::is_ipv4), Some(true));
        assert_eq!(addrs.get(1).map(SocketAddr::is_ipv6), Some(true));
        assert!(
            Endpoint::parse("http://127.0.0.1:1").is_ok_and(|e| e.loopback_overrides().is_none())
        );
    }
}
