//! One transaction for everything a query request reads.
//!
//! A dashboard read verifies the session and reads several lists; each in its
//! own transaction costs a checkout, `BEGIN`, settings and `COMMIT` apiece. A
//! query request instead opens one transaction, lazily, in the scope of its
//! first read (the verified caller's: tenant and user), and every later read
//! runs inside it, one at a time, on the same connection: a read in another
//! scope (the platform-admin path, a user's own rows) first switches the
//! transaction's settings (and role) in one round trip, exactly what a
//! transaction of its own would set, so a request never holds two connections
//! (32 admin requests on a pool of 16 would otherwise wait for each other). The
//! endpoint commits it when the response is ready (admin reads write their
//! audit entries in it). Mutations do not use it: they keep their own
//! transactions for their locks and audit entries.

use std::sync::Arc;

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use scoped_futures::ScopedBoxFuture;
use tokio::sync::Mutex;

use super::{OpenTransaction, Scope};
use crate::db::Db;
use crate::error::AppResult;

/// The read transaction of one request; cheap to clone.
#[derive(Clone)]
pub struct RequestReads {
    db: Db,
    state: Arc<Mutex<State>>,
}

enum State {
    /// Nothing read yet.
    Idle,
    Open {
        scope: Scope,
        tx: Box<OpenTransaction>,
    },
    /// Committed, or given up after a failed read: later reads get their own.
    Done,
}

impl RequestReads {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            state: Arc::new(Mutex::new(State::Idle)),
        }
    }

    /// Runs `work` in the request's transaction if it is (or can now be)
    /// opened in `scope`, else in a transaction of its own. A failed read ends
    /// the shared transaction (it may be aborted); later reads get their own.
    pub async fn run<'a, R, F>(&self, scope: Scope, work: F) -> AppResult<R>
    where
        F: for<'c> FnOnce(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, AppResult<R>>
            + Send
            + 'a,
        R: Send + 'a,
    {
        if scope.is_snapshot() {
            return self.db.own_transaction(scope, work).await;
        }
        let mut state = self.state.lock().await;
        if matches!(*state, State::Idle) {
            let tx = OpenTransaction::begin(self.db.checkout().await?, &scope).await?;
            *state = State::Open {
                scope: scope.clone(),
                tx: Box::new(tx),
            };
        }
        let State::Open { scope: open, tx } = &mut *state else {
            drop(state);
            return self.db.own_transaction(scope, work).await;
        };
        let result = if *open == scope {
            work(tx.conn()).await
        } else {
            // Another scope (the platform-admin path, a user's own rows): the
            // same transaction, switched to it in one round trip, so a request
            // never holds two connections.
            let switch = scope.switch_sql(Some(open));
            match tx.conn().batch_execute(&switch).await {
                Ok(()) => {
                    *open = scope;
                    work(tx.conn()).await
                }
                Err(err) => Err(err.into()),
            }
        };
        if result.is_err()
            && let State::Open { tx, .. } = std::mem::replace(&mut *state, State::Done)
        {
            (*tx).rollback().await;
        }
        result
    }

    /// Commits the reads (and the audit entries written with them). Called
    /// once the response is complete; dropping the request instead rolls back.
    pub async fn commit(&self) -> AppResult<()> {
        let mut state = self.state.lock().await;
        match std::mem::replace(&mut *state, State::Done) {
            State::Open { tx, .. } => (*tx).finish(Ok(())).await,
            State::Idle | State::Done => Ok(()),
        }
    }
}
