//! Opaque single-purpose tokens: refresh tokens, email links, invitations.
//!
//! A token reads `<prefix>.<scope id>.<secret>`: the scope id (a user or tenant
//! id) tells which tenant-scoped or user-scoped transaction may look it up, and
//! the 256-bit secret is what proves possession. Only the SHA-256 of the whole
//! token is stored, so a database leak yields no usable token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What a token is for; each has its own prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Refresh,
    MagicLink,
    PasswordReset,
    VerifyEmail,
    Invitation,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Refresh => "tgr",
            Self::MagicLink => "tgm",
            Self::PasswordReset => "tgp",
            Self::VerifyEmail => "tgv",
            Self::Invitation => "tgi",
        }
    }
}

/// A freshly made token: give `token` out once, store `hash`.
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: String,
    pub hash: Vec<u8>,
}

/// Makes a token of `kind` for the scope `id`.
pub fn mint(kind: Kind, id: Uuid) -> Minted {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!(
        "{}.{}.{}",
        kind.prefix(),
        id.simple(),
        URL_SAFE_NO_PAD.encode(secret)
    );
    let hash = hash(&token);
    Minted { token, hash }
}

/// The stored form of a token.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The scope id of a well-formed token of `kind`; `None` for anything else
/// (checked before any database work).
pub fn scope_id(kind: Kind, token: &str) -> Option<Uuid> {
    let mut parts = token.trim().split('.');
    let (Some(prefix), Some(id), Some(secret), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if prefix != kind.prefix() || secret.len() != 43 {
        return None;
    }
    URL_SAFE_NO_PAD
        .decode(secret)
        .ok()
        .filter(|s| s.len() == 32)?;
    Uuid::try_parse(id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_other_kinds() {
        let id = Uuid::new_v4();
        let minted = mint(Kind::Refresh, id);
        assert_eq!(scope_id(Kind::Refresh, &minted.token), Some(id));
        assert_eq!(scope_id(Kind::MagicLink, &minted.token), None);
        assert_eq!(hash(&minted.token), minted.hash);
        assert_ne!(mint(Kind::Refresh, id).token, minted.token);
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let id = Uuid::new_v4();
        let good = mint(Kind::Invitation, id).token;
        for bad in [
            "",
            "tgi",
            "tgi.x.y",
            &format!("tgi.{}.short", id.simple()),
            &format!("{good}.extra"),
            &good.replace("tgi.", "tgx."),
        ] {
            assert_eq!(scope_id(Kind::Invitation, bad), None, "{bad}");
        }
    }
}
