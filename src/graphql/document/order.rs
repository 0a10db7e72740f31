//! Response fields in query order.
//!
//! The GraphQL spec orders a response's fields as the query selects them;
//! async-graphql 7.2 resolves sibling fields in parallel and records them in
//! the order they finish. This puts them back, following the operation's
//! selection sets (aliases, fragment spreads and inline fragments included).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use async_graphql::Value;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Reorders `data` (the response of `operation` of `doc`) in query order.
pub fn reorder(data: &mut Value, doc: &ExecutableDocument, operation: Option<&str>) {
    reorder_counted(data, doc, operation);
}

/// [`reorder`], returning the work done (selections visited while computing
/// key orders) for the linearity property test.
pub fn reorder_counted(
    data: &mut Value,
    doc: &ExecutableDocument,
    operation: Option<&str>,
) -> usize {
    let op = super::Operations::named(operation).one(doc);
    let mut orderer = Orderer {
        doc,
        memo: HashMap::new(),
        steps: 0,
    };
    if let Some(op) = op {
        let sets = vec![&op.node.selection_set.node];
        orderer.order_value(data, &sets);
    }
    orderer.steps
}

type Keys<'a> = Rc<IndexMap<String, Vec<&'a SelectionSet>>>;

/// Computes the key order of each group of selection sets once: every object
/// of a list shares its siblings' order, so the work is bounded by the
/// document's expanded size, not by the response's size times it.
struct Orderer<'a> {
    doc: &'a ExecutableDocument,
    memo: HashMap<Vec<*const SelectionSet>, Keys<'a>>,
    steps: usize,
}

impl<'a> Orderer<'a> {
    /// The response keys of `sets`, in order, each with the sub-selections
    /// that apply to it (several when the same key is selected more than once).
    fn keys(&mut self, sets: &[&'a SelectionSet]) -> Keys<'a> {
        let id: Vec<*const SelectionSet> = sets.iter().map(|s| *s as *const _).collect();
        if let Some(keys) = self.memo.get(&id) {
            return keys.clone();
        }
        let mut out = IndexMap::new();
        let mut seen = HashSet::new();
        for set in sets {
            self.collect(set, &mut out, &mut seen);
        }
        let keys = Rc::new(out);
        self.memo.insert(id, keys.clone());
        keys
    }

    fn collect(
        &mut self,
        set: &'a SelectionSet,
        out: &mut IndexMap<String, Vec<&'a SelectionSet>>,
        seen: &mut HashSet<&'a str>,
    ) {
        for item in &set.items {
            self.steps += 1;
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
                    self.collect(&fragment.node.selection_set.node, out, seen)
                }
                Selection::FragmentSpread(spread) => {
                    // A fragment adds the same keys wherever it is spread in
                    // one selection: the first spread places them.
                    let name = spread.node.fragment_name.node.as_str();
                    if let Some((name, fragment)) = self.doc.fragments.get_key_value(name)
                        && seen.insert(name.as_str())
                    {
                        self.collect(&fragment.node.selection_set.node, out, seen);
                    }
                }
            }
        }
    }

    fn order_value(&mut self, value: &mut Value, sets: &[&'a SelectionSet]) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.order_value(item, sets);
                }
            }
            Value::Object(map) => {
                let wanted = self.keys(sets);
                let mut old = std::mem::take(map);
                for (key, subsets) in wanted.iter() {
                    if let Some((name, mut child)) = old.shift_remove_entry(key.as_str()) {
                        self.order_value(&mut child, subsets);
                        map.insert(name, child);
                    }
                }
                // Anything not found in the document keeps its place at the end.
                map.extend(old);
            }
            _ => {}
        }
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
