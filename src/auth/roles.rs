//! Tenant roles and their order: owner > admin > member; billing and viewer aside.

use std::fmt;

/// A member's role in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    Member,
    /// Billing only.
    Billing,
    /// Read only.
    Viewer,
}

impl Role {
    /// The role as stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Billing => "billing",
            Self::Viewer => "viewer",
        }
    }

    /// Parses a stored role.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "owner" => Self::Owner,
            "admin" => Self::Admin,
            "member" => Self::Member,
            "billing" => Self::Billing,
            "viewer" => Self::Viewer,
            _ => return None,
        })
    }

    /// Rank in the owner > admin > member line (billing and viewer rank lowest).
    pub fn rank(self) -> u8 {
        match self {
            Self::Owner => 4,
            Self::Admin => 3,
            Self::Member => 2,
            Self::Billing | Self::Viewer => 1,
        }
    }

    /// Whether this role is at least `other` in the owner > admin > member line.
    pub fn at_least(self, other: Role) -> bool {
        self == other || self.rank() > other.rank()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_order() {
        for role in [
            Role::Owner,
            Role::Admin,
            Role::Member,
            Role::Billing,
            Role::Viewer,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Admin.at_least(Role::Member));
        assert!(!Role::Member.at_least(Role::Admin));
        assert!(!Role::Viewer.at_least(Role::Member));
        assert!(!Role::Billing.at_least(Role::Viewer));
        assert!(Role::Billing.at_least(Role::Billing));
        assert_eq!(Role::parse("root"), None);
    }
}
