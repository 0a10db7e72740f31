//! Response fields in query order.
//!
//! The GraphQL spec orders a response's fields as the query selects them;
//! async-graphql 7.2 resolves sibling fields in parallel and records them in
//! the order they finish. This puts them back, following the operation's
//! selection sets (aliases, fragment spreads and inline fragments included).

use async_graphql::Value;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};

/// Reorders `data` (the response of `operation` of `doc`) in query order.
pub fn reorder(data: &mut Value, doc: &ExecutableDocument, operation: Option<&str>) {
    let op = match (&doc.operations, operation) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, op)| op),
        (DocumentOperations::Multiple(_), None) => None,
    };
    if let Some(op) = op {
        let sets = [&op.node.selection_set.node];
        order_value(data, doc, &sets, 0);
    }
}

/// The response keys of `sets`, in order, each with the sub-selections that
/// apply to it (several when the same key is selected more than once).
fn keys<'a>(
    doc: &'a ExecutableDocument,
    sets: &[&'a SelectionSet],
    out: &mut IndexMap<String, Vec<&'a SelectionSet>>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    for set in sets {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let key = field
                        .node
                        .alias
                        .as_ref()
                        .unwrap_or(&field.node.name)
                        .node
                        .to_string();
                    out.entry(key)
                        .or_default()
                        .push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    keys(doc, &[&fragment.node.selection_set.node], out, depth + 1)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                        keys(doc, &[&fragment.node.selection_set.node], out, depth + 1);
                    }
                }
            }
        }
    }
}

fn order_value(value: &mut Value, doc: &ExecutableDocument, sets: &[&SelectionSet], depth: usize) {
    match value {
        Value::List(items) => {
            for item in items {
                order_value(item, doc, sets, depth);
            }
        }
        Value::Object(map) => {
            let mut wanted = IndexMap::new();
            keys(doc, sets, &mut wanted, depth);
            let mut old = std::mem::take(map);
            for (key, subsets) in wanted {
                if let Some((name, mut child)) = old.shift_remove_entry(key.as_str()) {
                    order_value(&mut child, doc, &subsets, depth + 1);
                    map.insert(name, child);
                }
            }
            // Anything not found in the document keeps its place at the end.
            map.extend(old);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_back_in_query_order() {
        let doc = async_graphql::parser::parse_query(
            "{ t: tenant { members { nodes { role user { email id } } } ...F } viewer { role } } \
             fragment F on Tenant { auditLog { nodes { action } } name }",
        )
        .unwrap();
        let mut data = Value::from_json(serde_json::json!({
            "viewer": { "role": "OWNER" },
            "t": {
                "name": "Acme",
                "auditLog": { "nodes": [] },
                "members": { "nodes": [ { "user": { "id": "1", "email": "a@x" }, "role": "OWNER" } ] }
            }
        }))
        .unwrap();
        reorder(&mut data, &doc, None);
        assert_eq!(
            data.into_json().unwrap().to_string(),
            r#"{"t":{"members":{"nodes":[{"role":"OWNER","user":{"email":"a@x","id":"1"}}]},"auditLog":{"nodes":[]},"name":"Acme"},"viewer":{"role":"OWNER"}}"#
        );
    }
}
