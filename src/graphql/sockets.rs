//! Rules for operations arriving over a WebSocket: only subscriptions run
//! there, within the same document limits as HTTP. Queries and mutations go
//! over HTTP, where every request is authenticated and checked afresh.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Request, ServerError, ServerResult};

use crate::config::Limits;
use crate::error::AppError;
use crate::http::limits;

/// Marks the data of a WebSocket connection.
#[derive(Debug, Clone, Copy)]
pub struct OverWebSocket;

/// The extension that enforces the socket rules.
pub struct SocketRules {
    pub limits: Limits,
}

impl ExtensionFactory for SocketRules {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SocketRulesExtension {
            limits: self.limits.clone(),
        })
    }
}

struct SocketRulesExtension {
    limits: Limits,
}

fn refuse(message: impl Into<String>) -> ServerError {
    let mut err = AppError::bad_input(message)
        .to_graphql()
        .into_server_error(Default::default());
    err.locations.clear();
    err
}

#[async_trait::async_trait]
impl Extension for SocketRulesExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if ctx.data_opt::<OverWebSocket>().is_none() {
            return next.run(ctx, request).await;
        }
        let scan = limits::scan(&request.query, self.limits.max_tokens);
        if scan.tokens > self.limits.max_tokens || scan.nesting > limits::MAX_NESTING {
            return Err(refuse("the document is over the token or nesting limit"));
        }
        let operation = request.operation_name.clone();
        let doc = request.parsed_query()?;
        let counts = limits::count_document(doc);
        if counts.aliases > self.limits.max_aliases
            || counts.directives > self.limits.max_directives
        {
            return Err(refuse("the document is over the alias or directive limit"));
        }
        let subscription = match (&doc.operations, operation.as_deref()) {
            (DocumentOperations::Single(op), _) => op.node.ty == OperationType::Subscription,
            (DocumentOperations::Multiple(ops), Some(name)) => ops
                .iter()
                .any(|(n, op)| n.as_str() == name && op.node.ty == OperationType::Subscription),
            (DocumentOperations::Multiple(_), None) => false,
        };
        if !subscription {
            return Err(refuse(
                "only subscriptions run over WebSocket: send queries and mutations over HTTP",
            ));
        }
        next.run(ctx, request).await
    }
}
