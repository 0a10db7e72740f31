//! `CustomDomain` (a tenant's own domain and its verification state) and
//! `HostTenant` (the tenant a request's host names, with its public look).

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domains::{Dns, HostFace, custom::DomainRow};

/// Where a custom domain's verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DomainStatus {
    /// Claimed; the TXT record was not looked up yet.
    Pending,
    /// The TXT record held the token: the domain serves this tenant.
    Verified,
    /// Looked up, and the record did not hold the token (see `lastResult`).
    Failed,
}

/// A tenant's custom domain: publish `recordValue` as a TXT record at
/// `recordName`, then verify.
#[derive(Debug, Clone, SimpleObject)]
pub struct CustomDomain {
    /// The domain, lower-case (internationalised names as punycode).
    pub domain: String,
    /// Where verification stands.
    pub status: DomainStatus,
    /// The name of the TXT record to publish: `_tenantgate.<domain>`.
    pub record_name: String,
    /// The value of the TXT record: the token issued for this claim.
    pub record_value: String,
    /// When the record was first found holding the token (while verified).
    pub verified_at: Option<DateTime<Utc>>,
    /// When the record was last looked up (a verification or the daily
    /// re-check).
    pub last_checked_at: Option<DateTime<Utc>>,
    /// What the last lookup found, in words (e.g. the values the record held).
    pub last_result: Option<String>,
    /// Since when a verified domain's record has been missing: after 72 hours
    /// the domain is un-verified and its owners emailed.
    pub missing_since: Option<DateTime<Utc>>,
}

impl From<DomainRow> for CustomDomain {
    fn from(row: DomainRow) -> Self {
        let status = match (row.verified_at, row.last_checked_at) {
            (Some(_), _) => DomainStatus::Verified,
            (None, Some(_)) => DomainStatus::Failed,
            (None, None) => DomainStatus::Pending,
        };
        Self {
            record_name: Dns::record_name(&row.domain),
            domain: row.domain,
            status,
            record_value: row.token,
            verified_at: row.verified_at,
            last_checked_at: row.last_checked_at,
            last_result: row.last_result,
            missing_since: row.missing_since,
        }
    }
}

/// The tenant the address the app is served on belongs to, with what its
/// sign-in page shows before anyone signs in (nothing private).
#[derive(Debug, Clone, SimpleObject)]
pub struct HostTenant {
    /// The tenant's id.
    pub id: ID,
    /// The tenant's name.
    pub name: String,
    /// The name its branding shows instead, if set.
    pub display_name: Option<String>,
    /// Its logo (an https URL), if set.
    pub logo_url: Option<String>,
    /// Its primary colour (`#rrggbb` or `#rgb`), if set.
    pub primary_color: Option<String>,
    /// Its accent colour, if set.
    pub accent_color: Option<String>,
}

impl From<&HostFace> for HostTenant {
    fn from(host: &HostFace) -> Self {
        Self {
            id: ID(host.id.to_string()),
            name: host.name.clone(),
            display_name: host.branding.display_name.clone(),
            logo_url: host.branding.logo_url.clone(),
            primary_color: host.branding.primary_color.clone(),
            accent_color: host.branding.accent_color.clone(),
        }
    }
}
