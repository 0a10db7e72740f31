//! Trusted documents: the web app's operations, known to the server by the
//! SHA-256 of their text, so a client may send an id instead of the text and,
//! with `--trusted-documents on`, signed-in users and anonymous callers may
//! send nothing else.
//!
//! - The manifest is graphql-codegen's `persisted-documents.json` (client
//!   preset, `persistedDocuments` with `hashAlgorithm: 'sha256'`): a JSON
//!   object `{ "sha256:<hex of the text's SHA-256>": "<text>" }` (the prefix
//!   is optional), copied into `web/dist` by the app's build and loaded at
//!   start-up (embedded, or from `--web-dir`: `http::web::load_documents`).
//!   Every entry's hash is checked when it is loaded: a wrong one stops the
//!   start-up, naming it.
//! - On the wire, an id comes as Apollo's (and urql's) extension
//!   `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}`
//!   or as the GraphQL-over-HTTP draft's `"documentId": "sha256:<hex>"`, with
//!   no `query` (or an empty one). A known id runs the manifest's text, through
//!   every document check; an unknown one is PERSISTED_QUERY_NOT_FOUND. Text
//!   and an id together must agree (the text's SHA-256 is the id).
//! - What a request sends is read with bounded work: the id's length and
//!   alphabet are checked before anything else, and never echoed back.
//!
//! Who must use a known document in `on` mode is decided where the caller is
//! known: `http::graphql` (HTTP) and `graphql::sockets` (WebSocket), through
//! [`must_be_known`].

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::{Principal, Session};
use crate::config::TrustedMode;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// The manifest's file name in the web app's build (`web/dist`).
pub const MANIFEST: &str = "persisted-documents.json";

/// Hex digits of a SHA-256.
const HASH_HEX: usize = 64;

/// The documents this server knows, by the SHA-256 of their text.
#[derive(Clone, Default)]
pub struct TrustedDocuments {
    by_hash: Arc<HashMap<String, Arc<str>>>,
}

impl std::fmt::Debug for TrustedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustedDocuments({} documents)", self.by_hash.len())
    }
}

/// The lowercase hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl TrustedDocuments {
    /// Reads a manifest (`{ "<sha256 hex>": "<text>" }`), checking that every
    /// key is the SHA-256 of its text. Errors name the entry at fault.
    pub fn from_manifest(json: &[u8]) -> anyhow::Result<Self> {
        let entries: HashMap<String, Value> = serde_json::from_slice(json).map_err(|err| {
            anyhow::anyhow!(
                "{MANIFEST} is not a JSON object of document ids to document texts: {err}"
            )
        })?;
        let mut by_hash = HashMap::with_capacity(entries.len());
        for (key, text) in entries {
            let Value::String(text) = text else {
                anyhow::bail!("{MANIFEST}: the entry {key:?} is not a string of GraphQL text");
            };
            let hash = key.strip_prefix("sha256:").unwrap_or(&key);
            if !is_hash(hash) {
                anyhow::bail!(
                    "{MANIFEST}: the key {key:?} is not a SHA-256 (64 hex digits); build the \
                     manifest with graphql-codegen's `persistedDocuments: {{ hashAlgorithm: \
                     'sha256' }}`"
                );
            }
            let actual = sha256_hex(&text);
            if actual != hash.to_ascii_lowercase() {
                anyhow::bail!(
                    "{MANIFEST}: the entry {key} does not match its text (whose SHA-256 is \
                     {actual}): the manifest was edited or built wrongly; rebuild the web app"
                );
            }
            by_hash.insert(actual, Arc::from(text));
        }
        Ok(Self {
            by_hash: Arc::new(by_hash),
        })
    }

    /// How many documents are known.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The text of the document `id` (lowercase hex), if known.
    pub fn get(&self, id: &DocumentId) -> Option<&Arc<str>> {
        self.by_hash.get(&id.0)
    }

    /// Whether `text` is a known document.
    pub fn knows_text(&self, text: &str) -> bool {
        !self.by_hash.is_empty() && self.by_hash.contains_key(&sha256_hex(text))
    }

    /// The document a request asks for: the manifest's text for an id (text
    /// sent beside it must hash to it), else the text sent. `known` says
    /// whether it is a trusted document; for text alone it is looked up only
    /// when `check_text` (it costs a hash of the text).
    pub fn resolve(
        &self,
        query: Option<String>,
        id: Option<DocumentId>,
        check_text: bool,
    ) -> AppResult<Resolved> {
        let query = query.filter(|q| !q.trim().is_empty());
        match (query, id) {
            (None, None) => Err(AppError::bad_input(
                "the request has no `query` (nor a document id: `extensions.persistedQuery` or \
                 `documentId`)",
            )),
            (None, Some(id)) => match self.get(&id) {
                Some(text) => Ok(Resolved {
                    text: text.to_string(),
                    known: true,
                }),
                None => Err(AppError::persisted_query_not_found(format!(
                    "PersistedQueryNotFound: no document with id sha256:{} is known to this \
                     server (send its text, or rebuild the app against this server)",
                    id.0
                ))),
            },
            (Some(text), Some(id)) => {
                let actual = sha256_hex(&text);
                if actual != id.0 {
                    return Err(AppError::bad_input(format!(
                        "the query's SHA-256 is {actual}, not the document id sent \
                         (sha256:{}): send one or the other, or both matching",
                        id.0
                    )));
                }
                let known = self.by_hash.contains_key(&actual);
                Ok(Resolved { text, known })
            }
            (Some(text), None) => {
                let known = check_text && self.knows_text(&text);
                Ok(Resolved { text, known })
            }
        }
    }
}

/// A document id: the SHA-256 of the document's text, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentId(String);

impl DocumentId {
    /// The id's hex digits.
    pub fn hex(&self) -> &str {
        &self.0
    }
}

/// What a request will run.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The document's text.
    pub text: String,
    /// Whether it is a trusted document (always known for an id; for text
    /// alone, only when asked to check).
    pub known: bool,
}

fn is_hash(s: &str) -> bool {
    s.len() == HASH_HEX && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Reads a SHA-256 in hex from `value` (the field `field`; `sha256:` before
/// it is allowed, as graphql-codegen writes ids), refusing anything else
/// without echoing it.
fn hash_from(field: &str, value: &str) -> AppResult<DocumentId> {
    let value = value.strip_prefix("sha256:").unwrap_or(value);
    if !is_hash(value) {
        return Err(AppError::bad_field(
            field,
            format!(
                "`{field}` must be a SHA-256 in hex (64 digits 0-9, a-f); got {} characters{}",
                value.chars().count(),
                if value.len() == HASH_HEX {
                    " that are not all hex digits"
                } else {
                    ""
                }
            ),
        ));
    }
    Ok(DocumentId(value.to_ascii_lowercase()))
}

/// The document id a request names, from `extensions.persistedQuery` or
/// `documentId` (both: they must agree). Wrong types, versions, prefixes or
/// digests are BAD_USER_INPUT naming the field.
pub fn requested_id(
    extensions: Option<&Value>,
    document_id: Option<&Value>,
) -> AppResult<Option<DocumentId>> {
    let persisted = match extensions {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => match map.get("persistedQuery") {
            None | Some(Value::Null) => None,
            Some(Value::Object(pq)) => {
                match pq.get("version") {
                    Some(v) if v.as_u64() == Some(1) => {}
                    Some(_) => {
                        return Err(AppError::bad_field(
                            "extensions.persistedQuery.version",
                            "only version 1 of `extensions.persistedQuery` is supported",
                        ));
                    }
                    None => {
                        return Err(AppError::bad_field(
                            "extensions.persistedQuery.version",
                            "`extensions.persistedQuery` needs `\"version\": 1`",
                        ));
                    }
                }
                match pq.get("sha256Hash") {
                    Some(Value::String(hash)) => {
                        Some(hash_from("extensions.persistedQuery.sha256Hash", hash)?)
                    }
                    _ => {
                        return Err(AppError::bad_field(
                            "extensions.persistedQuery.sha256Hash",
                            "`extensions.persistedQuery.sha256Hash` must be a string: the \
                             SHA-256 of the document in hex",
                        ));
                    }
                }
            }
            Some(_) => {
                return Err(AppError::bad_field(
                    "extensions.persistedQuery",
                    "`extensions.persistedQuery` must be an object: {\"version\": 1, \
                     \"sha256Hash\": \"<hex>\"}",
                ));
            }
        },
        Some(_) => return Err(AppError::bad_input("`extensions` must be a JSON object")),
    };
    let direct = match document_id {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => match id.strip_prefix("sha256:") {
            Some(hash) => Some(hash_from("documentId", hash)?),
            None => {
                return Err(AppError::bad_field(
                    "documentId",
                    "`documentId` must be `sha256:` followed by the SHA-256 of the document in \
                     hex",
                ));
            }
        },
        Some(_) => {
            return Err(AppError::bad_field(
                "documentId",
                "`documentId` must be a string: `sha256:<hex>`",
            ));
        }
    };
    match (persisted, direct) {
        (Some(a), Some(b)) if a != b => Err(AppError::bad_input(
            "`documentId` and `extensions.persistedQuery.sha256Hash` name different documents: \
             send one",
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// In `on` mode, whether this caller may run a document that is not trusted:
/// API keys and platform admins may; signed-in users and anonymous callers
/// may not (TRUSTED_DOCUMENT_REQUIRED). Costs nothing for a known document
/// or an API key; for a user, the session check the request makes anyway
/// (kept in the session for the rest of the request).
pub async fn must_be_known(
    mode: TrustedMode,
    known: bool,
    session: &Session,
    db: &Db,
) -> AppResult<()> {
    if mode == TrustedMode::Off || known {
        return Ok(());
    }
    match &session.principal {
        Principal::ApiKey(_) => Ok(()),
        Principal::Anonymous => Err(text_refused()),
        Principal::User { .. } => {
            let verified = session.verify(db).await?;
            if verified.is_some_and(|v| v.is_platform_admin) {
                Ok(())
            } else {
                Err(text_refused())
            }
        }
    }
}

fn text_refused() -> AppError {
    AppError::trusted_document_required(
        "this server runs only the web app's own operations (trusted documents) for signed-in \
         users and anonymous callers: send a document id, not query text. To run your own \
         operations, use an API key (Authorization: Bearer tg_…), e.g. in the playground's \
         headers",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEXT: &str = "query Viewer { viewer { user { email } } }";

    fn manifest() -> TrustedDocuments {
        let json = json!({ sha256_hex(TEXT): TEXT }).to_string();
        TrustedDocuments::from_manifest(json.as_bytes()).unwrap()
    }

    #[test]
    fn manifests_are_checked_entry_by_entry() {
        assert_eq!(manifest().len(), 1);
        let wrong = json!({ sha256_hex("{ a }"): TEXT }).to_string();
        let err = TrustedDocuments::from_manifest(wrong.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("does not match its text"), "{err}");
        let prefixed = json!({ format!("sha256:{}", sha256_hex(TEXT)): TEXT }).to_string();
        assert_eq!(
            TrustedDocuments::from_manifest(prefixed.as_bytes())
                .unwrap()
                .len(),
            1
        );
        let sha1 = json!({ "a".repeat(40): TEXT }).to_string();
        let err = TrustedDocuments::from_manifest(sha1.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("hashAlgorithm"), "{err}");
        let err = TrustedDocuments::from_manifest(b"[1]").unwrap_err();
        assert!(err.to_string().contains("JSON object"), "{err}");
        let not_text = json!({ sha256_hex(TEXT): 5 }).to_string();
        assert!(TrustedDocuments::from_manifest(not_text.as_bytes()).is_err());
    }

    #[test]
    fn ids_are_read_from_either_form_and_must_agree() {
        let hash = sha256_hex(TEXT);
        let pq = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
        let id = requested_id(Some(&pq), None).unwrap().unwrap();
        assert_eq!(id.hex(), hash);
        // graphql-codegen's ids carry their algorithm.
        let prefixed =
            json!({ "persistedQuery": { "version": 1, "sha256Hash": format!("sha256:{hash}") } });
        assert_eq!(
            requested_id(Some(&prefixed), None).unwrap(),
            Some(id.clone())
        );
        let direct = json!(format!("sha256:{}", hash.to_uppercase()));
        assert_eq!(requested_id(None, Some(&direct)).unwrap(), Some(id.clone()));
        assert_eq!(
            requested_id(Some(&pq), Some(&direct)).unwrap(),
            Some(id.clone())
        );
        let other = json!(format!("sha256:{}", sha256_hex("{ a }")));
        assert!(requested_id(Some(&pq), Some(&other)).is_err());
        assert_eq!(requested_id(Some(&json!({})), None).unwrap(), None);
    }

    #[test]
    fn malformed_ids_are_bad_input_naming_the_field() {
        let huge = "f".repeat(1_000_000);
        let cases = [
            (
                json!({ "persistedQuery": 1 }),
                None,
                "extensions.persistedQuery",
            ),
            (
                json!({ "persistedQuery": { "sha256Hash": "ab" } }),
                None,
                "extensions.persistedQuery.version",
            ),
            (
                json!({ "persistedQuery": { "version": 2, "sha256Hash": "ab" } }),
                None,
                "extensions.persistedQuery.version",
            ),
            (
                json!({ "persistedQuery": { "version": 1, "sha256Hash": 7 } }),
                None,
                "extensions.persistedQuery.sha256Hash",
            ),
            (
                json!({ "persistedQuery": { "version": 1, "sha256Hash": huge } }),
                None,
                "extensions.persistedQuery.sha256Hash",
            ),
            (
                json!({ "persistedQuery": { "version": 1, "sha256Hash": "g".repeat(64) } }),
                None,
                "extensions.persistedQuery.sha256Hash",
            ),
            (json!({}), Some(json!(["sha256:ab"])), "documentId"),
            (json!({}), Some(json!("md5:abc")), "documentId"),
            (
                json!({}),
                Some(json!(format!("sha256:{huge}"))),
                "documentId",
            ),
        ];
        for (extensions, document_id, field) in cases {
            let err = requested_id(Some(&extensions), document_id.as_ref()).unwrap_err();
            let AppError::BadUserInput {
                field: Some(named),
                message,
            } = &err
            else {
                panic!("{field}: {err:?}");
            };
            assert_eq!(named, field);
            assert!(message.len() < 200, "the input is not echoed: {message}");
        }
        let err = requested_id(Some(&json!("x")), None).unwrap_err();
        assert_eq!(err.code().as_str(), "BAD_USER_INPUT");
    }

    #[test]
    fn resolving_runs_known_text_and_refuses_unknown_ids_and_mismatches() {
        let docs = manifest();
        let id = DocumentId(sha256_hex(TEXT));
        let r = docs.resolve(None, Some(id.clone()), false).unwrap();
        assert_eq!((r.text.as_str(), r.known), (TEXT, true));
        let r = docs.resolve(Some(String::new()), Some(id.clone()), false);
        assert!(r.unwrap().known, "an empty query is no query");
        let unknown = DocumentId(sha256_hex("{ a }"));
        let err = docs
            .resolve(None, Some(unknown.clone()), false)
            .unwrap_err();
        assert_eq!(err.code().as_str(), "PERSISTED_QUERY_NOT_FOUND");
        let r = docs.resolve(Some(TEXT.into()), Some(id), false).unwrap();
        assert!(r.known);
        let err = docs
            .resolve(Some("{ b }".into()), Some(unknown), false)
            .unwrap_err();
        assert_eq!(err.code().as_str(), "BAD_USER_INPUT");
        // Text alone: looked up only when asked.
        assert!(!docs.resolve(Some(TEXT.into()), None, false).unwrap().known);
        assert!(docs.resolve(Some(TEXT.into()), None, true).unwrap().known);
        assert!(
            !docs
                .resolve(Some("{ c }".into()), None, true)
                .unwrap()
                .known
        );
        assert!(docs.resolve(None, None, true).is_err());
    }

    #[test]
    fn the_web_apps_own_manifest_loads() {
        // graphql-codegen's output (web/src/gql), when the app has one.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/web/src/gql/persisted-documents.json"
        );
        let Ok(json) = std::fs::read(path) else {
            return;
        };
        let documents = TrustedDocuments::from_manifest(&json).unwrap();
        assert!(!documents.is_empty());
    }
}
