//! Outbound HTTP for the action modules that call the outside world (webhook family, Telegram,
//! Splunk HEC), with the rules an admin sets:
//!
//! - `Security.rest_client_enable_arbitrary_urls` (MISP's switch): modules that take a URL from
//!   the workflow refuse to run without it;
//! - `Security.outbound_allowed_hosts`: when set, only these hosts (a name also allows its
//!   sub-domains) and networks (`10.0.0.0/8`, `127.0.0.1`) may be called;
//! - loopback, private, link-local, shared, multicast and unspecified addresses are never called
//!   unless the allow-list names them (or their host name), whatever DNS answers: the check is
//!   made on the resolved addresses, by the client's resolver, so a name cannot be re-pointed at
//!   an internal address between the check and the call. Redirects are not followed.
//!
//! One pooled client verifies certificates, another accepts self-signed ones (the webhook's
//! "Self-signed certificates: allow"); both keep connections alive between calls.
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::backend::cache::FreshCache;
use crate::backend::services::settings;
use crate::backend::AppState;
use crate::error::AppError;

/// One entry of the allow-list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostRule {
    /// An address or network.
    Net(IpAddr, u8),
    /// A host name and its sub-domains (lowercase, no trailing dot).
    Name(String),
}

impl HostRule {
    pub fn parse(text: &str) -> Result<HostRule, String> {
        let t = text.trim().trim_end_matches('.').to_lowercase();
        if t.is_empty() {
            return Err("empty entry".into());
        }
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (t.as_str(), None),
        };
        if let Ok(ip) = addr.trim_matches(['[', ']']).parse::<IpAddr>() {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("`{text}`: bad prefix length"))?,
                None => max,
            };
            return Ok(HostRule::Net(ip, prefix));
        }
        let valid_name = prefix.is_none()
            && t.len() <= 253
            && t.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if valid_name {
            Ok(HostRule::Name(t))
        } else {
            Err(format!(
                "`{text}` is neither a host name nor an address or network"
            ))
        }
    }

    fn matches_ip(&self, ip: IpAddr) -> bool {
        match *self {
            HostRule::Net(net, prefix) => in_network(canonical(ip), (canonical(net), prefix)),
            HostRule::Name(_) => false,
        }
    }

    fn matches_name(&self, host: &str) -> bool {
        match self {
            HostRule::Name(n) => {
                let host = host.trim_end_matches('.').to_lowercase();
                host == *n || host.ends_with(&format!(".{n}"))
            }
            HostRule::Net(..) => false,
        }
    }
}

/// The entries of `Security.outbound_allowed_hosts` (commas, spaces or lines between them).
pub fn parse_rules(text: &str) -> Result<Vec<HostRule>, String> {
    text.split([',', ' ', '\n', '\r', '\t'])
        .filter(|s| !s.trim().is_empty())
        .map(HostRule::parse)
        .collect()
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_network(ip: IpAddr, (net, prefix): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Addresses that reach this machine or its networks rather than the internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                // shared address space (carrier-grade NAT), 100.64.0.0/10
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // unique local fc00::/7, link-local fe80::/10
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// What outbound calls may reach, read from the settings.
#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy {
    pub arbitrary_urls: bool,
    pub allowed: Vec<HostRule>,
    pub timeout: Duration,
}

impl OutboundPolicy {
    pub async fn load(state: &AppState) -> Result<Self, AppError> {
        use crate::backend::services::settings::setting;
        let arbitrary_urls = setting(state, "Security.rest_client_enable_arbitrary_urls")
            .await?
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let allowed = setting(state, "Security.outbound_allowed_hosts")
            .await?
            .and_then(|v| v.as_str().map(str::to_owned))
            .map(|t| parse_rules(&t).unwrap_or_default())
            .unwrap_or_default();
        let timeout = setting(state, "Plugin.Workflow_outbound_timeout")
            .await?
            .and_then(|v| v.as_u64())
            .unwrap_or(10);
        Ok(Self {
            arbitrary_urls,
            allowed,
            timeout: Duration::from_secs(timeout),
        })
    }

    /// Whether `ip`, reached as `host`, may be called.
    pub fn allows(&self, host: &str, ip: IpAddr) -> bool {
        let named = self
            .allowed
            .iter()
            .any(|r| r.matches_ip(ip) || r.matches_name(host));
        if self.allowed.is_empty() {
            !is_internal(ip)
        } else {
            named
        }
    }

    /// Checks a URL before any request: scheme, host, and an address written in the URL.
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, String> {
        let parsed =
            reqwest::Url::parse(url.trim()).map_err(|e| format!("Invalid URL `{url}`: {e}."))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "Only http and https URLs can be called, not `{}`.",
                parsed.scheme()
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("Credentials in the URL are refused: send them in a header.".into());
        }
        let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
            return Err(format!("The URL `{url}` has no host."));
        };
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            if !self.allows(&ip.to_string(), ip) {
                return Err(refusal(&ip.to_string(), &[ip]));
            }
        }
        Ok(parsed)
    }
}

fn refusal(host: &str, ips: &[IpAddr]) -> String {
    let list: Vec<String> = ips.iter().map(ToString::to_string).collect();
    format!(
        "Calls to {host} ({}) are not allowed: internal addresses and hosts outside \
         Security.outbound_allowed_hosts are refused (add the host or network there to allow it).",
        list.join(", ")
    )
}

/// The resolver of the outbound clients: resolves, then keeps only the addresses the current
/// policy allows.
struct PolicyResolver {
    policy: Arc<RwLock<OutboundPolicy>>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let policy = policy.read().map(|p| p.clone()).unwrap_or_default();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.allows(&host, a.ip()))
                .collect();
            if allowed.is_empty() {
                let ips: Vec<IpAddr> = found.iter().map(SocketAddr::ip).collect();
                return Err(refusal(&host, &ips).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// How long the policy read from the settings is reused: changes made by this process apply at
/// once, another process's within this time.
const POLICY_MAX_AGE: Duration = Duration::from_secs(1);

/// The outbound clients and the policy their resolver applies.
pub struct Outbound {
    policy: Arc<RwLock<OutboundPolicy>>,
    /// `policy` as last read from the settings.
    loaded: FreshCache<(), OutboundPolicy>,
    verified: reqwest::Client,
    self_signed: reqwest::Client,
}

impl Outbound {
    pub fn new() -> Self {
        let policy = Arc::new(RwLock::new(OutboundPolicy::default()));
        let build = |accept_invalid: bool| {
            let builder = || {
                reqwest::Client::builder()
                    .user_agent(concat!(
                        "Flowgate/",
                        env!("CARGO_PKG_VERSION"),
                        " (MISP workflows)"
                    ))
                    .redirect(reqwest::redirect::Policy::none())
                    .pool_idle_timeout(Duration::from_secs(60))
                    .danger_accept_invalid_certs(accept_invalid)
                    .dns_resolver(Arc::new(PolicyResolver {
                        policy: policy.clone(),
                    }))
            };
            builder().build().unwrap_or_else(|e| {
                tracing::error!(error = %e, "system CA certificates unusable: HTTPS peers cannot be verified");
                builder()
                    .tls_built_in_root_certs(false)
                    .build()
                    .unwrap_or_else(|_| reqwest::Client::new())
            })
        };
        Self {
            verified: build(false),
            self_signed: build(true),
            policy,
            loaded: FreshCache::new(&settings::SETTINGS, POLICY_MAX_AGE, 1),
        }
    }

    /// The current policy from the settings (at most a second old), installed for the resolver.
    pub async fn policy(&self, state: &AppState) -> Result<OutboundPolicy, AppError> {
        if let Some(p) = self.loaded.get(&(), |_| true) {
            return Ok(p);
        }
        let generation = self.loaded.generation();
        let policy = OutboundPolicy::load(state).await?;
        if let Ok(mut p) = self.policy.write() {
            *p = policy.clone();
        }
        self.loaded.put((), policy.clone(), generation);
        Ok(policy)
    }

    /// The current policy and a client.
    pub async fn prepare(
        &self,
        state: &AppState,
        allow_self_signed: bool,
    ) -> Result<(OutboundPolicy, reqwest::Client), AppError> {
        let policy = self.policy(state).await?;
        let client = if allow_self_signed {
            self.self_signed.clone()
        } else {
            self.verified.clone()
        };
        Ok((policy, client))
    }
}

impl Default for Outbound {
    fn default() -> Self {
        Self::new()
    }
}

/// A readable reason for a failed request: the innermost cause (the resolver's refusal, a
/// refused connection) says most.
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "the request timed out".into();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}

/// At most `max` bytes of `body`, cut at a character boundary.
pub fn excerpt(body: &str, max: usize) -> String {
    if body.len() <= max {
        return body.to_owned();
    }
    let mut cut = max;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &body[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rules: &str) -> OutboundPolicy {
        OutboundPolicy {
            arbitrary_urls: true,
            allowed: parse_rules(rules).unwrap(),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let open = policy("");
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!open.allows("h", ip.parse().unwrap()), "{ip}");
        }
        assert!(open.allows("h", "93.184.216.34".parse().unwrap()));
        assert!(open.allows("h", "2001:4860::8888".parse().unwrap()));
        let local = policy("127.0.0.1");
        assert!(local.allows("localhost", "127.0.0.1".parse().unwrap()));
        assert!(!local.allows("localhost", "127.0.0.2".parse().unwrap()));
        assert!(
            !local.allows("example.org", "93.184.216.34".parse().unwrap()),
            "a list allows only what it names"
        );
    }

    #[test]
    fn names_allow_their_sub_domains_and_networks_their_addresses() {
        let p = policy("hooks.example.org, 10.0.0.0/8\n::1");
        assert!(p.allows("hooks.example.org", "10.9.9.9".parse().unwrap()));
        assert!(
            p.allows("a.hooks.example.org", "192.168.0.1".parse().unwrap()),
            "the name was allowed"
        );
        assert!(!p.allows("evilhooks.example.org", "93.184.216.34".parse().unwrap()));
        assert!(p.allows("x", "10.200.0.1".parse().unwrap()));
        assert!(p.allows("x", "::1".parse().unwrap()));
        assert!(parse_rules("10.0.0.0/33").is_err());
        assert!(parse_rules("http://x").is_err());
    }

    #[test]
    fn urls_are_checked_before_any_request() {
        let p = policy("");
        assert!(p.check_url("ftp://example.org/").is_err());
        assert!(p.check_url("http://user:pw@example.org/").is_err());
        assert!(p
            .check_url("http://127.0.0.1:8080/hook")
            .unwrap_err()
            .contains("not allowed"));
        assert!(p.check_url("http://[::1]/").is_err());
        assert!(
            p.check_url("https://example.org/hook").is_ok(),
            "names are checked when resolved"
        );
    }

    #[test]
    fn excerpts_cut_at_character_boundaries() {
        assert_eq!(excerpt("héllo", 2), "h…");
        assert_eq!(excerpt("ok", 10), "ok");
    }
}
