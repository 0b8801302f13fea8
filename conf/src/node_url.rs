//! The address of a Meilisearch node: `http://HOST:PORT` or `https://HOST[:PORT]`.
//!
//! A node URL names a server, not a page: no path (a lone trailing `/` is tolerated),
//! no query, no fragment and no user info, because Miroir appends Meilisearch's own
//! paths to it and sends the node key in a header. The host is a DNS name, an IPv4
//! address or a bracketed IPv6 address; the port defaults to the scheme's (80 or 443).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a node URL does not parse. The caller adds the field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a node URL: {reason}; write it as http://HOST:PORT, e.g. \"http://10.0.0.5:7700\"")]
pub struct NodeUrlError {
    /// The text as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A parsed, normalised node URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeUrl {
    tls: bool,
    /// Without brackets for IPv6, lower-cased for DNS names.
    host: String,
    ipv6: bool,
    port: u16,
}

impl NodeUrl {
    /// Parse and normalise a node URL.
    ///
    /// # Errors
    /// [`NodeUrlError`] naming the first thing wrong: scheme, user info, host, port,
    /// path, query or fragment.
    pub fn parse(text: &str) -> Result<Self, NodeUrlError> {
        let error = |reason| NodeUrlError {
            text: text.to_owned(),
            reason,
        };
        let (tls, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
            (false, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(text, "https://") {
            (true, rest)
        } else {
            return Err(error("the scheme must be http:// or https://"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('?') {
            return Err(error("a node URL has no query"));
        }
        if rest.contains('#') {
            return Err(error("a node URL has no fragment"));
        }
        if rest.contains('/') {
            return Err(error("a node URL has no path"));
        }
        if rest.contains('@') {
            return Err(error(
                "a node URL has no user info; the node key goes in keys.node_master_key",
            ));
        }
        if rest.is_empty() {
            return Err(error("the host is missing"));
        }
        let (host, ipv6, port_text) = if let Some(bracketed) = rest.strip_prefix('[') {
            let Some((inside, after)) = bracketed.split_once(']') else {
                return Err(error("the IPv6 address has no closing ']'"));
            };
            if inside.parse::<Ipv6Addr>().is_err() {
                return Err(error("the host is not a valid IPv6 address"));
            }
            let port_text = match after {
                "" => None,
                _ => match after.strip_prefix(':') {
                    Some(port) => Some(port),
                    None => return Err(error("only :PORT may follow the IPv6 address")),
                },
            };
            (inside.to_owned(), true, port_text)
        } else {
            let (host, port_text) = match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            };
            if host.is_empty() {
                return Err(error("the host is missing"));
            }
            if !is_dns_name_or_ipv4(host) {
                return Err(error(
                    "the host must be a DNS name, an IPv4 address or a bracketed IPv6 address",
                ));
            }
            (host.to_ascii_lowercase(), false, port_text)
        };
        let port = match port_text {
            None => {
                if tls {
                    443
                } else {
                    80
                }
            }
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port != 0 && text.bytes().all(|b| b.is_ascii_digit()) => port,
                _ => return Err(error("the port must be a number from 1 to 65535")),
            },
        };
        Ok(NodeUrl {
            tls,
            host,
            ipv6,
            port,
        })
    }

    /// Whether the node is reached over TLS (`https://`).
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The host without brackets, for SNI and name resolution. DNS names are lower-case.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, with brackets around an IPv6 host: what goes in `Host` and what a
    /// connector dials.
    pub fn authority(&self) -> String {
        if self.ipv6 {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The normalised form `scheme://host:port`, port always written.
impl fmt::Display for NodeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.authority())
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn is_dns_name_or_ipv4(host: &str) -> bool {
    if host.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    // An all-numeric dotted host that is not a valid IPv4 address (`10.0.0.300`) is a
    // typo, not a DNS name.
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return false;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> &'static str {
        NodeUrl::parse(text).expect_err(text).reason
    }

    #[test]
    fn parses_host_and_port() {
        let url = NodeUrl::parse("http://10.0.0.5:7700").expect("valid");
        assert!(!url.tls());
        assert_eq!(url.host(), "10.0.0.5");
        assert_eq!(url.port(), 7700);
        assert_eq!(url.authority(), "10.0.0.5:7700");
        assert_eq!(url.to_string(), "http://10.0.0.5:7700");
    }

    #[test]
    fn defaults_the_port_from_the_scheme() {
        assert_eq!(NodeUrl::parse("http://meili").expect("valid").port(), 80);
        assert_eq!(
            NodeUrl::parse("https://meili.example.com")
                .expect("valid")
                .port(),
            443
        );
    }

    #[test]
    fn normalises_case_and_trailing_slash() {
        let url = NodeUrl::parse("HTTPS://Meili-1.Example.com:7700/").expect("valid");
        assert!(url.tls());
        assert_eq!(url.to_string(), "https://meili-1.example.com:7700");
    }

    #[test]
    fn keeps_brackets_of_ipv6_in_the_authority_only() {
        let url = NodeUrl::parse("http://[::1]:7700").expect("valid");
        assert_eq!(url.host(), "::1");
        assert_eq!(url.authority(), "[::1]:7700");
        assert_eq!(url.to_string(), "http://[::1]:7700");
    }

    #[test]
    fn refuses_other_schemes() {
        assert_eq!(
            reason("ftp://meili:7700"),
            "the scheme must be http:// or https://"
        );
        assert_eq!(
            reason("meili:7700"),
            "the scheme must be http:// or https://"
        );
    }

    #[test]
    fn refuses_paths_queries_fragments_and_user_info() {
        assert_eq!(
            reason("http://meili:7700/indexes"),
            "a node URL has no path"
        );
        assert_eq!(reason("http://meili:7700?a=b"), "a node URL has no query");
        assert_eq!(
            reason("http://meili:7700#top"),
            "a node URL has no fragment"
        );
        assert_eq!(
            reason("http://user:pw@meili:7700"),
            "a node URL has no user info; the node key goes in keys.node_master_key"
        );
    }

    #[test]
    fn refuses_bad_hosts_and_ports() {
        assert_eq!(reason("http://"), "the host is missing");
        assert_eq!(reason("http://:7700"), "the host is missing");
        assert_eq!(
            reason("http://meili_node!:7700"),
            "the host must be a DNS name, an IPv4 address or a bracketed IPv6 address"
        );
        assert_eq!(
            reason("http://10.0.0.300:7700"),
            "the host must be a DNS name, an IPv4 address or a bracketed IPv6 address"
        );
        assert_eq!(
            reason("http://meili:0"),
            "the port must be a number from 1 to 65535"
        );
        assert_eq!(
            reason("http://meili:70000"),
            "the port must be a number from 1 to 65535"
        );
        assert_eq!(
            reason("http://meili:+80"),
            "the port must be a number from 1 to 65535"
        );
        assert_eq!(
            reason("http://meili:"),
            "the port must be a number from 1 to 65535"
        );
        assert_eq!(reason("http://[::1"), "the IPv6 address has no closing ']'");
        assert_eq!(
            reason("http://[zz]:1"),
            "the host is not a valid IPv6 address"
        );
    }

    #[test]
    fn error_says_how_to_write_it() {
        assert_eq!(
            NodeUrl::parse("ftp://x").expect_err("invalid").to_string(),
            "\"ftp://x\" is not a node URL: the scheme must be http:// or https://; write it as http://HOST:PORT, e.g. \"http://10.0.0.5:7700\""
        );
    }
}
