//! The IP block list: addresses and CIDR ranges (IPv4 and IPv6) whose
//! requests the phone sign-up refuses with 403 `ip_blocked`.
//!
//! Networks are kept canonical (host bits cleared, IPv4-mapped IPv6 written
//! as IPv4), so one range has exactly one spelling: the store's key, and the
//! text an operator removes it by.

use std::net::IpAddr;

use time::OffsetDateTime;

/// Re-exported: callers name networks without depending on `ipnet`.
pub use ipnet::IpNet;

use super::errors::{FieldError, FieldErrors};

pub const REASON_MAX_CHARS: usize = 200;
pub const CREATED_BY_MAX_CHARS: usize = 100;

/// The IPv4-mapped IPv6 range `::ffff:0:0/96` is this long.
const MAPPED_PREFIX_LEN: u8 = 96;

/// One blocked address or range, with why, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpBlock {
    pub network: IpNet,
    pub reason: String,
    pub created_at: OffsetDateTime,
    pub created_by: Option<String>,
}

impl IpBlock {
    /// A block from operator input; every failing field is reported
    /// (`network`, `reason`, `created_by`).
    pub fn new(
        network: &str,
        reason: &str,
        created_by: Option<&str>,
        created_at: OffsetDateTime,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let network = errors.collect("network", Self::parse_network(network));
        let reason = errors.collect("reason", Self::parse_reason(reason));
        let created_by = match created_by {
            Some(name) => errors
                .collect("created_by", Self::parse_created_by(name))
                .map(Some),
            None => Some(None),
        };
        match (network, reason, created_by) {
            (Some(network), Some(reason), Some(created_by)) if errors.is_empty() => Ok(Self {
                network,
                reason,
                created_at,
                created_by,
            }),
            _ => Err(errors),
        }
    }

    /// A plain address (a /32 or /128 block) or a CIDR range, canonical:
    /// `203.0.113.7/24` is `203.0.113.0/24`, `::ffff:192.0.2.1` is
    /// `192.0.2.1/32`. Addresses are parsed strictly (no leading zeros, no
    /// zone ids) so that no spelling is ambiguous.
    pub fn parse_network(raw: &str) -> Result<IpNet, FieldError> {
        let raw = raw.trim();
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let address: IpAddr = address.parse().map_err(|_| {
            FieldError::invalid("Enter a valid IPv4 or IPv6 address, or a CIDR range.")
        })?;
        let max_prefix_len = if address.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            None => max_prefix_len,
            Some(prefix) => parse_prefix_len(prefix, max_prefix_len)?,
        };
        let network = IpNet::new(address, prefix_len)
            .map_err(|_| FieldError::invalid("The prefix length is too long."))?;
        Ok(canonical_network(network))
    }

    /// Why the block exists: required, one line, at most 200 characters.
    pub fn parse_reason(raw: &str) -> Result<String, FieldError> {
        parse_line(raw, REASON_MAX_CHARS)
    }

    /// Who added the block (an operator's name): one line, at most 100
    /// characters.
    pub fn parse_created_by(raw: &str) -> Result<String, FieldError> {
        parse_line(raw, CREATED_BY_MAX_CHARS)
    }
}

/// The one spelling of a network: host bits cleared, and an IPv4-mapped
/// IPv6 range (inside `::ffff:0:0/96`) as the IPv4 range it stands for,
/// since requests from those addresses are matched as IPv4.
pub fn canonical_network(network: IpNet) -> IpNet {
    let network = network.trunc();
    if let IpNet::V6(v6) = network {
        if v6.prefix_len() >= MAPPED_PREFIX_LEN {
            if let Some(v4) = v6.addr().to_ipv4_mapped() {
                if let Ok(mapped) = IpNet::new(IpAddr::V4(v4), v6.prefix_len() - MAPPED_PREFIX_LEN)
                {
                    return mapped;
                }
            }
        }
    }
    network
}

/// The address a request is matched by: an IPv4-mapped IPv6 address
/// (`::ffff:1.2.3.4`, how dual-stack sockets report IPv4 peers) is the IPv4
/// address it carries.
pub fn canonical_address(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

fn parse_prefix_len(raw: &str, max: u8) -> Result<u8, FieldError> {
    // Digits only, without sign or leading zeros: `u8::from_str` would
    // take `+24` and `024`.
    let well_formed = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit())
        && (raw == "0" || !raw.starts_with('0'));
    match raw.parse::<u8>() {
        Ok(len) if well_formed && len <= max => Ok(len),
        _ => Err(FieldError::invalid(format!(
            "The prefix length must be a number from 0 to {max}."
        ))),
    }
}

fn parse_line(raw: &str, max_chars: usize) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::blank());
    }
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::too_long(max_chars));
    }
    // One line without tabs: the admin command prints one entry per line.
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::invalid("Control characters are not allowed."));
    }
    Ok(trimmed.to_owned())
}

/// The blocks in force, ready to match request addresses against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpBlockList {
    /// Most specific first, so a match names the narrowest block. The list
    /// is small (operators add entries by hand): a scan is fast enough.
    blocks: Vec<IpBlock>,
}

impl IpBlockList {
    pub fn new(mut blocks: Vec<IpBlock>) -> Self {
        for block in &mut blocks {
            block.network = canonical_network(block.network);
        }
        blocks.sort_by(|a, b| {
            b.network
                .prefix_len()
                .cmp(&a.network.prefix_len())
                .then_with(|| a.network.cmp(&b.network))
        });
        Self { blocks }
    }

    /// The narrowest block holding `ip`, if any.
    pub fn contains(&self, ip: IpAddr) -> Option<&IpBlock> {
        let ip = canonical_address(ip);
        self.blocks.iter().find(|block| block.network.contains(&ip))
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &IpBlock> {
        self.blocks.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::ErrorCode;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2025-05-01 08:00 UTC);

    fn net(raw: &str) -> String {
        IpBlock::parse_network(raw).unwrap().to_string()
    }

    fn block(network: &str) -> IpBlock {
        IpBlock::new(network, &format!("test {network}"), None, AT).unwrap()
    }

    fn list(networks: &[&str]) -> IpBlockList {
        IpBlockList::new(networks.iter().map(|n| block(n)).collect())
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    /// The network of the block matching `address`, if any.
    fn matched(list: &IpBlockList, address: &str) -> Option<String> {
        list.contains(ip(address)).map(|b| b.network.to_string())
    }

    #[test]
    fn plain_addresses_become_single_address_blocks() {
        assert_eq!(net("203.0.113.7"), "203.0.113.7/32");
        assert_eq!(net(" 203.0.113.7 "), "203.0.113.7/32");
        assert_eq!(net("2001:DB8::1"), "2001:db8::1/128");
        assert_eq!(net("2001:0db8:0000::0001"), "2001:db8::1/128");
    }

    #[test]
    fn ranges_are_truncated_to_their_network() {
        assert_eq!(net("203.0.113.7/24"), "203.0.113.0/24");
        assert_eq!(net("203.0.113.7/32"), "203.0.113.7/32");
        assert_eq!(net("10.1.2.3/8"), "10.0.0.0/8");
        assert_eq!(net("1.2.3.4/0"), "0.0.0.0/0");
        assert_eq!(net("2001:db8:abcd:12::7/48"), "2001:db8:abcd::/48");
        assert_eq!(net("2001:db8::7/0"), "::/0");
    }

    #[test]
    fn mapped_ipv6_input_is_stored_as_ipv4() {
        assert_eq!(net("::ffff:192.0.2.1"), "192.0.2.1/32");
        assert_eq!(net("::ffff:192.0.2.1/120"), "192.0.2.0/24");
        assert_eq!(net("::ffff:0:0/96"), "0.0.0.0/0");
        // Wider than the mapped range: an IPv6 range like any other.
        assert_eq!(net("::ffff:0:0/95"), "::fffe:0:0/95");
    }

    #[test]
    fn bad_networks_are_invalid() {
        for bad in [
            "",
            "   ",
            "abc",
            "999.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/-1",
            "1.2.3.4/+8",
            "1.2.3.4/08",
            "1.2.3.4/8/8",
            "1.2.3.4/x",
            "/24",
            "2001:db8::1/129",
            "2001:db8::1/1000",
            "2001:db8:::1",
            "fe80::1%eth0",
            "1.2.3.4 /24",
        ] {
            let error = IpBlock::parse_network(bad).expect_err(bad);
            assert_eq!(error.code, ErrorCode::Invalid, "{bad:?}");
        }
        assert!(IpBlock::parse_network("1.2.3.4/33")
            .unwrap_err()
            .message
            .contains("0 to 32"));
    }

    #[test]
    fn reasons_and_authors_are_single_short_lines() {
        assert_eq!(IpBlock::parse_reason(" abuse ").unwrap(), "abuse");
        assert!(IpBlock::parse_reason(&"é".repeat(REASON_MAX_CHARS)).is_ok());
        let code = |result: Result<String, FieldError>| result.unwrap_err().code;
        assert_eq!(
            code(IpBlock::parse_reason(&"é".repeat(REASON_MAX_CHARS + 1))),
            ErrorCode::TooLong
        );
        assert_eq!(code(IpBlock::parse_reason("  ")), ErrorCode::Required);
        assert_eq!(code(IpBlock::parse_reason("a\nb")), ErrorCode::Invalid);
        assert_eq!(code(IpBlock::parse_reason("a\tb")), ErrorCode::Invalid);
        assert_eq!(
            code(IpBlock::parse_created_by(&"x".repeat(101))),
            ErrorCode::TooLong
        );
        assert_eq!(
            code(IpBlock::parse_created_by("x\u{1b}")),
            ErrorCode::Invalid
        );
    }

    #[test]
    fn new_reports_every_bad_field() {
        let errors = IpBlock::new("abc", "", Some("a\u{0}"), AT).unwrap_err();
        assert_eq!(errors.codes("network"), [ErrorCode::Invalid]);
        assert_eq!(errors.codes("reason"), [ErrorCode::Required]);
        assert_eq!(errors.codes("created_by"), [ErrorCode::Invalid]);

        let block = IpBlock::new("203.0.113.9/24", " spam ", Some(" ops "), AT).unwrap();
        assert_eq!(block.network.to_string(), "203.0.113.0/24");
        assert_eq!(block.reason, "spam");
        assert_eq!(block.created_by.as_deref(), Some("ops"));
        assert_eq!(block.created_at, AT);
    }

    #[test]
    fn ipv4_blocks_match_their_addresses_only() {
        let list = list(&["203.0.113.7", "198.51.100.0/24"]);
        assert_eq!(
            matched(&list, "203.0.113.7").as_deref(),
            Some("203.0.113.7/32")
        );
        assert_eq!(matched(&list, "203.0.113.8"), None);
        assert_eq!(matched(&list, "203.0.113.6"), None);
        // Both ends of the range, and just outside them.
        assert_eq!(
            matched(&list, "198.51.100.0").as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(
            matched(&list, "198.51.100.255").as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(matched(&list, "198.51.99.255"), None);
        assert_eq!(matched(&list, "198.51.101.0"), None);
        // An IPv4 block never matches IPv6 addresses.
        assert_eq!(matched(&list, "2001:db8::1"), None);
    }

    #[test]
    fn ipv6_blocks_match_their_addresses_only() {
        let list = list(&["2001:db8::1", "2001:db8:abcd::/48"]);
        assert_eq!(
            matched(&list, "2001:db8::1").as_deref(),
            Some("2001:db8::1/128")
        );
        assert_eq!(matched(&list, "2001:db8::2"), None);
        assert_eq!(
            matched(&list, "2001:db8:abcd:ffff:ffff:ffff:ffff:ffff").as_deref(),
            Some("2001:db8:abcd::/48")
        );
        assert_eq!(matched(&list, "2001:db8:abce::"), None);
        assert_eq!(matched(&list, "2001:db8:abcc:ffff::1"), None);
        assert_eq!(matched(&list, "203.0.113.7"), None);
    }

    #[test]
    fn zero_prefixes_match_their_whole_family() {
        let v4 = list(&["0.0.0.0/0"]);
        assert!(v4.contains(ip("1.2.3.4")).is_some());
        assert!(v4.contains(ip("255.255.255.255")).is_some());
        assert!(v4.contains(ip("::1")).is_none());
        let v6 = list(&["::/0"]);
        assert!(v6.contains(ip("2001:db8::1")).is_some());
        assert!(v6.contains(ip("1.2.3.4")).is_none());
    }

    #[test]
    fn mapped_addresses_match_ipv4_blocks() {
        let list = list(&["192.0.2.0/24"]);
        assert_eq!(
            matched(&list, "::ffff:192.0.2.55").as_deref(),
            Some("192.0.2.0/24")
        );
        assert_eq!(
            matched(&list, "::ffff:c000:0201").as_deref(),
            Some("192.0.2.0/24")
        );
        assert_eq!(matched(&list, "::ffff:192.0.3.1"), None);
        // Only mapped addresses carry IPv4; others near them do not.
        assert_eq!(matched(&list, "::192.0.2.55"), None);
        assert_eq!(matched(&list, "64:ff9b::192.0.2.55"), None);
    }

    #[test]
    fn the_narrowest_matching_block_is_named() {
        let list = list(&["0.0.0.0/0", "10.0.0.0/8", "10.1.2.3", "10.1.0.0/16"]);
        assert_eq!(matched(&list, "10.1.2.3").as_deref(), Some("10.1.2.3/32"));
        assert_eq!(matched(&list, "10.1.9.9").as_deref(), Some("10.1.0.0/16"));
        assert_eq!(matched(&list, "10.9.9.9").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(matched(&list, "11.0.0.1").as_deref(), Some("0.0.0.0/0"));
        assert_eq!(list.len(), 4);
    }

    #[test]
    fn stored_networks_are_made_canonical_for_matching() {
        let stored = IpBlock {
            network: "::ffff:10.0.0.9/120".parse().unwrap(),
            reason: "stored before canonical forms".into(),
            created_at: AT,
            created_by: None,
        };
        let list = IpBlockList::new(vec![stored]);
        assert_eq!(matched(&list, "10.0.0.200").as_deref(), Some("10.0.0.0/24"));
    }

    #[test]
    fn an_empty_list_blocks_nothing() {
        let list = IpBlockList::default();
        assert!(list.is_empty());
        assert!(list.contains(ip("1.2.3.4")).is_none());
        assert!(list.contains(ip("::")).is_none());
    }
}
