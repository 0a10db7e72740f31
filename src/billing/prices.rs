//! `tenantgate billing sync-prices`: gives every paid plan a Stripe price per
//! interval. A plan's price is found by its lookup key
//! (`tenantgate_<plan>_<month|year>`) and reused when its amount and currency
//! match the plan; otherwise a new price is made (on a product per plan) and
//! takes the lookup key over. Free plans (price 0) get none; a plan whose
//! price ids are already set is left alone (an admin set them on purpose).

use std::collections::HashMap;
use std::str::FromStr;

use diesel_async::AsyncPgConnection;
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, ListPrice,
};
use stripe_product::product::CreateProduct;
use stripe_shared::Price;
use stripe_types::Currency;

use super::StripeApi;
use crate::db::billing as rows;
use crate::error::{AppError, AppResult};

/// The lookup key of a plan's price for `interval` (`month` or `year`).
pub fn lookup_key(plan: &str, interval: &str) -> String {
    format!("tenantgate_{plan}_{interval}")
}

/// Finds or makes the missing Stripe prices of every plan and records them
/// (`conn`: the owner connection). Returns one line per plan about what was done.
pub async fn sync_prices(api: &StripeApi, conn: &mut AsyncPgConnection) -> AppResult<Vec<String>> {
    let mut report = Vec::new();
    for (plan, monthly_cents, yearly_cents, currency) in rows::all_plan_prices(conn).await? {
        let mut product: Option<String> = None;
        let mut ids = [plan.monthly_price_id.clone(), plan.yearly_price_id.clone()];
        let mut done = Vec::new();
        for (slot, (interval, cents)) in [("month", monthly_cents), ("year", yearly_cents)]
            .into_iter()
            .enumerate()
        {
            if ids[slot].is_some() {
                done.push(format!(
                    "{interval}: kept {}",
                    ids[slot].as_deref().unwrap_or("")
                ));
                continue;
            }
            if cents <= 0 {
                continue;
            }
            let key = lookup_key(&plan.key, interval);
            let found = api
                .call(
                    &ListPrice::new().lookup_keys(vec![key.clone()]).active(true),
                    None,
                )
                .await?;
            let matching = found
                .data
                .iter()
                .find(|p| fits(p, i64::from(cents), &currency, interval));
            let price = match matching {
                Some(price) => {
                    done.push(format!("{interval}: found {}", price.id.as_str()));
                    price.id.as_str().to_owned()
                }
                None => {
                    let product_id = match (&product, found.data.first()) {
                        (Some(id), _) => id.clone(),
                        (None, Some(existing)) => existing.product.id().as_str().to_owned(),
                        (None, None) => {
                            let mut metadata = HashMap::new();
                            metadata.insert("tenantgate_plan".to_owned(), plan.key.clone());
                            let made = api
                                .call(
                                    &CreateProduct::new(plan.name.as_str()).metadata(metadata),
                                    Some(format!("tg-product-{}", plan.key)),
                                )
                                .await?;
                            made.id.as_str().to_owned()
                        }
                    };
                    product = Some(product_id.clone());
                    let currency = Currency::from_str(&currency).map_err(|_| {
                        AppError::internal(anyhow::anyhow!(
                            "plan {}: currency {currency}",
                            plan.key
                        ))
                    })?;
                    let recurring = CreatePriceRecurring::new(if interval == "month" {
                        CreatePriceRecurringInterval::Month
                    } else {
                        CreatePriceRecurringInterval::Year
                    });
                    let mut metadata = HashMap::new();
                    metadata.insert(
                        super::sync::PRICE_PLAN_METADATA.to_owned(),
                        plan.key.clone(),
                    );
                    let request = CreatePrice::new(currency)
                        .product(product_id)
                        .metadata(metadata)
                        .unit_amount(i64::from(cents))
                        .recurring(recurring)
                        .lookup_key(key.clone())
                        .transfer_lookup_key(true);
                    let made = api
                        .call(&request, Some(format!("tg-price-{key}-{cents}")))
                        .await?;
                    done.push(format!("{interval}: created {}", made.id.as_str()));
                    made.id.as_str().to_owned()
                }
            };
            ids[slot] = Some(price);
        }
        if ids[0] != plan.monthly_price_id || ids[1] != plan.yearly_price_id {
            rows::set_plan_prices(conn, &plan.key, ids[0].as_deref(), ids[1].as_deref()).await?;
        }
        if done.is_empty() {
            report.push(format!("{}: free, no prices", plan.key));
        } else {
            report.push(format!("{}: {}", plan.key, done.join(", ")));
        }
    }
    Ok(report)
}

/// Whether a Stripe price charges what the plan says for `interval`.
fn fits(price: &Price, cents: i64, currency: &str, interval: &str) -> bool {
    price.unit_amount == Some(cents)
        && price.currency.to_string() == currency
        && price
            .recurring
            .as_ref()
            .is_some_and(|r| r.interval.as_str() == interval && r.interval_count == 1)
}
