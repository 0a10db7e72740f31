//! A purged tenant's Stripe customer: deleted (which cancels its
//! subscription at Stripe, with `customer.subscription.deleted` and
//! `customer.deleted` events). Events that arrive for a tenant pending
//! deletion, or for a customer no tenant has any more, change nothing (see
//! `events.rs`).

use scoped_futures::ScopedFutureExt;
use stripe_core::customer::DeleteCustomer;
use uuid::Uuid;

use super::Billing;
use crate::db::billing as rows;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

impl Billing {
    /// Deletes `tenant`'s Stripe customer, if it has one: true when one was
    /// deleted (or Stripe no longer knew it). UNAVAILABLE when Stripe cannot
    /// be reached, or billing is off while the tenant has a customer (the
    /// purge waits rather than leave a customer behind).
    pub async fn delete_customer_of(&self, tenant: Uuid) -> AppResult<bool> {
        let customer = self
            .db
            .scoped(Scope::billing(Some(tenant)), |conn| {
                async move { Ok(rows::customer(conn, tenant).await?) }.scope_boxed()
            })
            .await?;
        let Some(customer) = customer else {
            return Ok(false);
        };
        let api = &self.on()?.api;
        let id = customer.stripe_customer_id;
        let request = DeleteCustomer::new(id.as_str());
        match api.call(&request, Some(format!("tg-erase-{tenant}"))).await {
            Ok(_) => {
                tracing::info!(tenant.id = %tenant, stripe.customer = %id, "Stripe customer deleted");
                Ok(true)
            }
            Err(AppError::NotFound(_)) => {
                tracing::info!(tenant.id = %tenant, stripe.customer = %id, "Stripe customer already gone");
                Ok(true)
            }
            Err(err) => Err(err),
        }
    }

    /// Whether `tenant` is pending deletion (its billing events are then
    /// ignored: the purge deletes its customer and rows).
    pub(crate) async fn tenant_deleting(&self, tenant: Uuid) -> AppResult<bool> {
        self.db
            .scoped(Scope::billing(Some(tenant)), |conn| {
                async move {
                    Ok(crate::db::tenants::find(conn, tenant)
                        .await?
                        .is_none_or(|t| t.status == "pending_deletion"))
                }
                .scope_boxed()
            })
            .await
    }
}
