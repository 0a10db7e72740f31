//! Rules for operations arriving over a WebSocket: only subscriptions run
//! there, within the same document limits as HTTP, and at most so many at once
//! per socket. Queries and mutations go over HTTP, where every request is
//! authenticated and checked afresh. A `subscribe` may name a trusted document
//! instead of sending its text (`extensions.persistedQuery`, or `documentId`,
//! which `http::websocket` moves into `extensions`), under the same rules as
//! over HTTP (see [`super::trusted`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextSubscribe,
};
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response, ServerError, ServerResult};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use crate::auth::Session;
use crate::config::{Limits, TrustedMode};
use crate::db::Db;
use crate::error::AppError;
use crate::graphql::document;
use crate::graphql::trusted::{self, TrustedDocuments};

/// Marks the data of a WebSocket connection.
#[derive(Debug, Clone, Copy)]
pub struct OverWebSocket;

/// The subscriptions running on one socket (in the socket's connection data).
#[derive(Debug, Clone, Default)]
pub struct SocketSubscriptions(Arc<AtomicUsize>);

/// Gives a subscription's place back when its stream is dropped (completed by
/// the client, ended by the server, or the socket closed).
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The extension that enforces the socket rules.
pub struct SocketRules {
    pub limits: Limits,
    /// Most subscriptions running at once on one socket.
    pub max_subscriptions: usize,
    /// The trusted documents, and who must use them.
    pub documents: TrustedDocuments,
    pub trusted_mode: TrustedMode,
    /// For the session check of `on` mode (platform admins may send text).
    pub db: Db,
}

impl ExtensionFactory for SocketRules {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SocketRulesExtension {
            limits: self.limits.clone(),
            max_subscriptions: self.max_subscriptions,
            documents: self.documents.clone(),
            trusted_mode: self.trusted_mode,
            db: self.db.clone(),
        })
    }
}

struct SocketRulesExtension {
    limits: Limits,
    max_subscriptions: usize,
    documents: TrustedDocuments,
    trusted_mode: TrustedMode,
    db: Db,
}

/// The name under which `http::websocket` hands a `subscribe` payload's
/// `documentId` over in its `extensions`.
pub const DOCUMENT_ID_EXTENSION: &str = "documentId";

fn refuse(err: AppError) -> ServerError {
    let mut err = err.to_graphql().into_server_error(Default::default());
    err.locations.clear();
    err
}

#[async_trait::async_trait]
impl Extension for SocketRulesExtension {
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let Some(SocketSubscriptions(running)) = ctx.data_opt::<SocketSubscriptions>() else {
            return next.run(ctx, stream);
        };
        let running = running.clone();
        if running.fetch_add(1, Ordering::SeqCst) >= self.max_subscriptions {
            running.fetch_sub(1, Ordering::SeqCst);
            let error = refuse(AppError::bad_input(format!(
                "at most {} subscriptions run at once on one socket: complete one first",
                self.max_subscriptions
            )));
            return futures_util::stream::once(async move { Response::from_errors(vec![error]) })
                .boxed();
        }
        let slot = Running(running);
        next.run(ctx, stream)
            .map(move |response| {
                let _held = &slot;
                response
            })
            .boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if ctx.data_opt::<OverWebSocket>().is_none() {
            return next.run(ctx, request).await;
        }
        let extensions = serde_json::to_value(&request.extensions)
            .map_err(|err| refuse(AppError::bad_input(format!("bad `extensions`: {err}"))))?;
        let document_id = extensions.get(DOCUMENT_ID_EXTENSION);
        let id = trusted::requested_id(Some(&extensions), document_id).map_err(refuse)?;
        let check_text = self.trusted_mode == TrustedMode::On;
        let query = std::mem::take(&mut request.query);
        let resolved = self
            .documents
            .resolve(Some(query), id, check_text)
            .map_err(refuse)?;
        if let Some(session) = ctx.data_opt::<Session>() {
            trusted::must_be_known(self.trusted_mode, resolved.known, session, &self.db)
                .await
                .map_err(refuse)?;
        } else if check_text && !resolved.known {
            return Err(refuse(AppError::trusted_document_required(
                "send a trusted document's id",
            )));
        }
        request.query = resolved.text;
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
