//! Rules for operations arriving over a WebSocket: only subscriptions run
//! there, within the same document limits as HTTP. Queries and mutations go
//! over HTTP, where every request is authenticated and checked afresh.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, ServerError, ServerResult};

use crate::config::Limits;
use crate::error::AppError;
use crate::graphql::document;

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

fn refuse(err: AppError) -> ServerError {
    let mut err = err.to_graphql().into_server_error(Default::default());
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
        let operation = request.operation_name.clone();
        let checked = document::check(
            &request.query,
            operation.as_deref(),
            &self.limits,
            super::SESSION_FIELDS,
        )
        .map_err(refuse)?;
        document::strings::check_variables(&request.variables).map_err(refuse)?;
        if !checked.all_of_type(OperationType::Subscription) {
            return Err(refuse(AppError::bad_input(
                "only subscriptions run over WebSocket: send queries and mutations over HTTP",
            )));
        }
        request.set_parsed_query(checked.doc);
        next.run(ctx, request).await
    }
}
