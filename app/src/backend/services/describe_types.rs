//! MISP's attribute type table (`app/data/describeTypes.json`, see its README) and the value
//! checks MISP applies before saving an attribute.
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::OnceLock;

use serde::Deserialize;

/// The parsed table.
#[derive(Debug)]
pub struct DescribeTypes {
    /// Type → (default category, default IDS flag).
    pub sane_defaults: HashMap<String, (String, bool)>,
    /// Every type, in MISP's order.
    pub types: Vec<String>,
    /// Every category, in MISP's order.
    pub categories: Vec<String>,
    /// Category → the types allowed in it.
    pub category_types: HashMap<String, HashSet<String>>,
}

#[derive(Deserialize)]
struct File {
    result: RawTable,
}

#[derive(Deserialize)]
struct RawTable {
    sane_defaults: HashMap<String, RawDefault>,
    types: Vec<String>,
    categories: Vec<String>,
    category_type_mappings: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct RawDefault {
    default_category: String,
    to_ids: u8,
}

const TABLE: &str = include_str!("../../../data/describeTypes.json");

/// The table, parsed once.
pub fn describe_types() -> &'static DescribeTypes {
    static PARSED: OnceLock<DescribeTypes> = OnceLock::new();
    PARSED.get_or_init(|| {
        // The file is part of the binary and covered by a test: it always parses.
        let file: File = serde_json::from_str(TABLE).unwrap_or_else(|_| File {
            result: RawTable {
                sane_defaults: HashMap::new(),
                types: Vec::new(),
                categories: Vec::new(),
                category_type_mappings: HashMap::new(),
            },
        });
        let t = file.result;
        DescribeTypes {
            sane_defaults: t
                .sane_defaults
                .into_iter()
                .map(|(k, d)| (k, (d.default_category, d.to_ids != 0)))
                .collect(),
            types: t.types,
            categories: t.categories,
            category_types: t
                .category_type_mappings
                .into_iter()
                .map(|(c, types)| (c, types.into_iter().collect()))
                .collect(),
        }
    })
}

/// `GET /attributes/describeTypes`: the table as MISP serves it.
pub fn describe_types_json() -> serde_json::Value {
    serde_json::from_str(TABLE).unwrap_or(serde_json::Value::Null)
}

impl DescribeTypes {
    pub fn is_type(&self, kind: &str) -> bool {
        self.sane_defaults.contains_key(kind)
    }

    /// Whether `kind` may be filed under `category`.
    pub fn allows(&self, category: &str, kind: &str) -> bool {
        self.category_types
            .get(category)
            .is_some_and(|types| types.contains(kind))
    }

    /// MISP's default category and IDS flag for `kind`.
    pub fn defaults(&self, kind: &str) -> Option<(&str, bool)> {
        self.sane_defaults
            .get(kind)
            .map(|(c, ids)| (c.as_str(), *ids))
    }
}

/// The hash lengths (hex digits) of MISP's fixed-length hash types.
fn hash_length(kind: &str) -> Option<usize> {
    Some(match kind {
        "md5"
        | "imphash"
        | "x509-fingerprint-md5"
        | "ja3-fingerprint-md5"
        | "hassh-md5"
        | "hasshserver-md5" => 32,
        "sha1" | "x509-fingerprint-sha1" | "cdhash" => 40,
        "sha224" | "sha512/224" | "sha3-224" => 56,
        "sha256" | "sha512/256" | "sha3-256" | "x509-fingerprint-sha256" => 64,
        "sha384" | "sha3-384" => 96,
        "sha512" | "sha3-512" => 128,
        _ => return None,
    })
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An IP address or a CIDR block.
fn is_ip_or_cidr(s: &str) -> bool {
    match s.split_once('/') {
        Some((ip, bits)) => match (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Ok(IpAddr::V4(_)), Ok(b)) => b <= 32,
            (Ok(IpAddr::V6(_)), Ok(b)) => b <= 128,
            _ => false,
        },
        None => s.parse::<IpAddr>().is_ok(),
    }
}

/// A host name as MISP accepts it: dot-separated labels of letters, digits, `-` and `_`, with at
/// least one dot and no empty label.
fn is_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    s.contains('.')
        && s.len() <= 255
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        })
}

fn is_port(s: &str) -> bool {
    s.parse::<u16>().is_ok()
}

/// Trims and checks `value` for `kind` as MISP's attribute validation does for the common types;
/// returns the value to store or MISP's reason.
pub fn check_value(kind: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("Value cannot be empty.".into());
    }
    if let Some((left, right)) = kind.split_once('|') {
        let Some((a, b)) = value.split_once('|') else {
            return Err(format!(
                "Composite type `{kind}`: the value must be two parts separated by `|`."
            ));
        };
        let a = check_value(left, a)?;
        let b = match right {
            "port" if !is_port(b.trim()) => return Err("Invalid port.".into()),
            _ => check_value(right, b)?,
        };
        return Ok(format!("{a}|{b}"));
    }
    if let Some(len) = hash_length(kind) {
        if value.len() != len || !is_hex(value) {
            return Err(format!(
                "Checksum has an invalid length or format (expected: {len} hexadecimal characters). Please double check the value or select type \"other\"."
            ));
        }
        return Ok(value.to_ascii_lowercase());
    }
    match kind {
        "ip-src" | "ip-dst" => {
            if is_ip_or_cidr(value) {
                Ok(value.to_owned())
            } else {
                Err("IP address has an invalid format.".into())
            }
        }
        "domain" | "hostname" => {
            if is_hostname(value) {
                Ok(value.to_ascii_lowercase())
            } else {
                Err(format!("{kind} has an invalid format. Please double check the value or select type \"other\"."))
            }
        }
        "email"
        | "email-src"
        | "email-dst"
        | "target-email"
        | "whois-registrant-email"
        | "dns-soa-email"
        | "email-reply-to" => match value.split_once('@') {
            Some((user, host)) if !user.is_empty() && !host.is_empty() && !value.contains(' ') => {
                Ok(value.to_owned())
            }
            _ => Err("Email address has an invalid format.".into()),
        },
        "port" => {
            if is_port(value) {
                Ok(value.to_owned())
            } else {
                Err("Port numbers have to be integers between 0 and 65535.".into())
            }
        }
        "AS" => {
            let digits = value.strip_prefix("AS").unwrap_or(value);
            if digits.parse::<u32>().is_ok() {
                Ok(digits.to_owned())
            } else {
                Err("AS number has to be an integer.".into())
            }
        }
        "counter" | "float" => {
            if value.parse::<f64>().is_ok() {
                Ok(value.to_owned())
            } else {
                Err(format!(
                    "The value of a {kind} attribute has to be a number."
                ))
            }
        }
        "boolean" => match value.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok("1".into()),
            "0" | "false" => Ok("0".into()),
            _ => Err("Boolean values have to be 0, 1, true or false.".into()),
        },
        _ => Ok(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_with_misp_types_and_mappings() {
        let t = describe_types();
        assert!(t.types.len() > 150, "{}", t.types.len());
        assert_eq!(t.categories.len(), 16);
        assert_eq!(t.defaults("ip-dst"), Some(("Network activity", true)));
        assert!(t.allows("Network activity", "ip-src"));
        assert!(!t.allows("Network activity", "md5"));
        assert!(t.types.iter().all(|kind| t.is_type(kind)));
    }

    #[test]
    fn values_are_checked_per_type() {
        assert_eq!(check_value("ip-dst", " 10.0.0.1 ").unwrap(), "10.0.0.1");
        assert!(check_value("ip-dst", "10.0.0.0/8").is_ok());
        assert!(check_value("ip-src", "2001:db8::1").is_ok());
        assert!(check_value("ip-src", "10.0.0.256").is_err());
        assert!(check_value("ip-src", "10.0.0.0/33").is_err());
        assert_eq!(check_value("domain", "Example.ORG").unwrap(), "example.org");
        assert!(check_value("domain", "no_dot").is_err());
        assert!(check_value("md5", "d41d8cd98f00b204e9800998ecf8427e").is_ok());
        assert!(check_value("md5", "d41d8cd98f00b204").is_err());
        assert!(check_value("sha256", &"A".repeat(64)).is_ok());
        assert_eq!(
            check_value("filename|md5", "a.exe|D41D8CD98F00B204E9800998ECF8427E").unwrap(),
            "a.exe|d41d8cd98f00b204e9800998ecf8427e"
        );
        assert!(check_value("filename|md5", "a.exe").is_err());
        assert!(check_value("ip-dst|port", "1.2.3.4|443").is_ok());
        assert!(check_value("ip-dst|port", "1.2.3.4|99999").is_err());
        assert!(check_value("email-src", "a@b.c").is_ok());
        assert!(check_value("email-src", "nope").is_err());
        assert!(check_value("text", "   ").is_err());
        assert_eq!(check_value("AS", "AS1234").unwrap(), "1234");
        assert_eq!(check_value("text", " free text ").unwrap(), "free text");
    }
}
