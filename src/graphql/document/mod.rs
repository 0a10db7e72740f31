//! What every GraphQL document passes, over HTTP and WebSocket alike, before
//! anything else walks it.
//!
//! A document's cost is its *expanded* size: a 1 KB document whose fragments
//! each spread the next one twice expands 2^26 times, and every pass that
//! follows spreads (async-graphql's validation, depth and complexity visitors,
//! execution, the field reordering) walks the expansion. So [`check`] runs, in
//! this order, passes that are each linear in the text:
//!
//! 1. [`scan`]: tokens and bracket nesting, on the raw text, stopping at the cap;
//! 2. the parse (recursion bounded by the nesting limit);
//! 3. [`walk::expand`]: each fragment expanded once (memoised), cycles refused,
//!    the expanded size held to `max_selections`; the depth of the selected
//!    operation (introspection counting one level), the nesting inside its
//!    introspection fields (`ofType` at most [`MAX_OF_TYPE`] deep, list fields
//!    at most [`MAX_INTROSPECTION_LISTS`]) and its root fields measured on
//!    the way;
//! 4. [`walk::count_document`]: aliases and directives as written;
//! 5. [`strings::check_document`]: string literals PostgreSQL could not store.
//!
//! Only then do async-graphql's passes run, each bounded by the expanded size.

#[cfg(test)]
mod linear;
pub mod order;
pub mod scan;
pub mod strings;
pub mod walk;

use async_graphql::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
};

use crate::config::Limits;
use crate::error::{AppError, AppResult};
pub use scan::MAX_NESTING;
pub use walk::Expansion;

/// Most `ofType` fields on one path of an introspection query. graphql-js's
/// `getIntrospectionQuery()` (GraphiQL, codegen) nests 9, enough for any
/// wrapped type up to `[[[[T!]!]!]!]`; 16 leaves room and stays bounded.
pub const MAX_OF_TYPE: usize = 16;

/// Most introspection list fields (`types`, `fields`, `args`, …) on one path:
/// the standard query nests 3 (`__schema { types { fields { args } } }`);
/// each more would multiply the answer by a size of the schema.
pub const MAX_INTROSPECTION_LISTS: usize = 3;

/// The operations a request selects: the one it names, the only one, or, when
/// a document has several and the request names none, all of them (execution
/// then refuses the request; until then each counts).
#[derive(Debug, Clone, Copy)]
pub struct Operations<'a> {
    name: Option<&'a str>,
}

impl<'a> Operations<'a> {
    /// The selection that `operation_name` makes.
    pub fn named(operation_name: Option<&'a str>) -> Self {
        Self {
            name: operation_name,
        }
    }

    /// Whether the operation called `name` (None: anonymous) is selected.
    pub fn includes(&self, name: Option<&str>) -> bool {
        match (self.name, name) {
            // An anonymous operation is the document's only one.
            (_, None) => true,
            (None, Some(_)) => true,
            (Some(wanted), Some(name)) => wanted == name,
        }
    }

    /// The one operation selected, if exactly one is.
    pub fn one<'d>(
        &self,
        doc: &'d ExecutableDocument,
    ) -> Option<&'d Positioned<OperationDefinition>> {
        match (&doc.operations, self.name) {
            (DocumentOperations::Single(op), _) => Some(op),
            (DocumentOperations::Multiple(ops), Some(name)) => ops
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, op)| op),
            // One named operation runs without `operationName` too.
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
            (DocumentOperations::Multiple(_), None) => None,
        }
    }

    /// The types of the selected operations (empty: the name matches none).
    pub fn types(&self, doc: &ExecutableDocument) -> Vec<OperationType> {
        match &doc.operations {
            DocumentOperations::Single(op) => vec![op.node.ty],
            DocumentOperations::Multiple(ops) => ops
                .iter()
                .filter(|(name, _)| self.includes(Some(name.as_str())))
                .map(|(_, op)| op.node.ty)
                .collect(),
        }
    }
}

/// A document that passed [`check`].
#[derive(Debug, Clone)]
pub struct Checked {
    pub doc: ExecutableDocument,
    pub expansion: Expansion,
    /// The types of the selected operations (see [`Operations::types`]).
    pub types: Vec<OperationType>,
}

impl Checked {
    /// Whether every selected operation is of type `ty`; false when the name
    /// selects none.
    pub fn all_of_type(&self, ty: OperationType) -> bool {
        !self.types.is_empty() && self.types.iter().all(|t| *t == ty)
    }

    /// Whether the selected operations run nothing but `authorize` (and
    /// `__typename`) at the root.
    pub fn only_authorize(&self) -> bool {
        self.expansion.other_than_authorize == 0
    }
}

/// Runs the document checks (see the module documentation) and returns the
/// parsed document. Every refusal is BAD_USER_INPUT naming the limit.
pub fn check(
    query: &str,
    operation_name: Option<&str>,
    limits: &Limits,
    session_fields: &[&str],
) -> AppResult<Checked> {
    let scanned = scan::scan(query, limits.max_tokens);
    if scanned.tokens > limits.max_tokens {
        return Err(AppError::bad_input(format!(
            "the document has more than {} tokens",
            limits.max_tokens
        )));
    }
    if scanned.nesting > MAX_NESTING {
        return Err(AppError::bad_input(format!(
            "the document nests brackets more than {MAX_NESTING} deep"
        )));
    }
    let doc = async_graphql::parser::parse_query(query)
        .map_err(|err| AppError::bad_input(format!("syntax error: {err}")))?;
    let selected = Operations::named(operation_name);
    let expansion = walk::expand(&doc, &selected, session_fields, limits.max_selections).map_err(
        |refusal| match refusal {
            walk::Refusal::Cycle(name) => AppError::bad_input(format!(
                "fragment `{name}` spreads itself (directly or through other fragments)"
            )),
            walk::Refusal::TooLarge => AppError::bad_input(format!(
                "the document expands to more than {} selections (a fragment counts again at \
                 every spread)",
                limits.max_selections
            )),
        },
    )?;
    if expansion.depth > limits.max_depth {
        return Err(AppError::bad_input(format!(
            "the document is nested too deep: {} levels; at most {} are allowed",
            expansion.depth, limits.max_depth
        )));
    }
    let introspection = expansion.introspection;
    if introspection.of_type > MAX_OF_TYPE {
        return Err(AppError::bad_input(format!(
            "the introspection query nests `ofType` {} levels deep; at most {MAX_OF_TYPE} are \
             allowed (graphql-js's introspection query uses 9)",
            introspection.of_type
        )));
    }
    if introspection.lists > MAX_INTROSPECTION_LISTS {
        return Err(AppError::bad_input(format!(
            "the introspection query nests {} list fields (`types`, `fields`, `args`, \
             `inputFields`, `interfaces`, `possibleTypes`, `enumValues`, `directives`) in one \
             another; at most {MAX_INTROSPECTION_LISTS} are allowed (as in \
             `__schema {{ types {{ fields {{ args }} }} }}`)",
            introspection.lists
        )));
    }
    let counts = walk::count_document(&doc);
    if counts.aliases > limits.max_aliases {
        return Err(AppError::bad_input(format!(
            "the document has {} aliases; at most {} are allowed",
            counts.aliases, limits.max_aliases
        )));
    }
    if counts.directives > limits.max_directives {
        return Err(AppError::bad_input(format!(
            "the document has {} directives; at most {} are allowed",
            counts.directives, limits.max_directives
        )));
    }
    if expansion.session_fields > 1 {
        return Err(AppError::bad_input(
            "one sign-in or session operation per request: send them separately",
        ));
    }
    strings::check_document(&doc)?;
    let types = selected.types(&doc);
    Ok(Checked {
        doc,
        expansion,
        types,
    })
}
