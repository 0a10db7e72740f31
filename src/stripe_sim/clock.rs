//! The simulator's clock and what happens when time passes. The clock is the
//! real time plus an offset that tests move forward; every step that waits
//! for a moment (a trial's end and the warning 3 days before it, a period's
//! renewal, a cancellation at the period's end, retrying a failed payment,
//! `past_due` turning `unpaid`, `incomplete` expiring after 23 hours, an
//! unused checkout session expiring after 24 hours) runs
//! at that moment, in time order, with the clock pinned there, so events
//! carry the time they would have had.

use super::changes::end_subscription;
use super::events::{emit, updated};
use super::lifecycle::{attempt_payment, create_invoice, period_end};
use super::objects;
use super::state::{InvoiceStatus, Line, SessionStatus, State, SubStatus, new_id};

/// How long an `incomplete` subscription waits for its first payment.
const INCOMPLETE_EXPIRES_AFTER: i64 = 23 * 3600;

/// When `trial_will_end` is sent, before the trial's end.
const TRIAL_WARNING: i64 = 3 * 86_400;

/// The real time plus an offset; pinned while past moments are worked.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: i64,
    pinned: Option<i64>,
}

impl Clock {
    /// The simulated time, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.pinned
            .unwrap_or_else(|| chrono::Utc::now().timestamp() + self.offset)
    }

    /// How far ahead of the real time the clock runs.
    pub fn offset(&self) -> i64 {
        self.offset
    }
}

/// A step that waits for a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Due {
    TrialWillEnd(String),
    PeriodEnd(String),
    Unpaid(String),
    IncompleteExpired(String),
    RetryPayment(String),
    SessionExpired(String),
}

/// The earliest step due at or before `until`.
fn next_due(state: &State, until: i64) -> Option<(i64, Due)> {
    let mut best: Option<(i64, Due)> = None;
    let mut consider = |at: i64, due: Due| {
        if at <= until && best.as_ref().is_none_or(|(t, _)| at < *t) {
            best = Some((at, due));
        }
    };
    for s in &state.subscriptions {
        let id = s.id.clone();
        match s.status {
            SubStatus::Trialing => {
                if let Some(end) = s.trial_end {
                    if !s.trial_will_end_sent {
                        consider(
                            (end - TRIAL_WARNING).max(s.created),
                            Due::TrialWillEnd(id.clone()),
                        );
                    }
                    consider(end.max(s.period_end()), Due::PeriodEnd(id));
                }
            }
            SubStatus::Active => consider(s.period_end(), Due::PeriodEnd(id)),
            SubStatus::PastDue => {
                consider(s.period_end(), Due::PeriodEnd(id.clone()));
                if let Some(since) = s.past_due_since {
                    consider(since + state.unpaid_after_secs, Due::Unpaid(id));
                }
            }
            SubStatus::Incomplete => {
                consider(
                    s.created + INCOMPLETE_EXPIRES_AFTER,
                    Due::IncompleteExpired(id),
                );
            }
            SubStatus::Unpaid | SubStatus::Canceled | SubStatus::IncompleteExpired => {}
        }
    }
    for c in &state.checkout_sessions {
        if c.status == SessionStatus::Open {
            consider(c.expires_at, Due::SessionExpired(c.id.clone()));
        }
    }
    for i in &state.invoices {
        if i.status == InvoiceStatus::Open
            && i.attempt_count > 0
            && let Some(at) = i.next_payment_attempt
        {
            consider(at, Due::RetryPayment(i.id.clone()));
        }
    }
    best
}

/// Runs every step due by the clock's current time.
pub fn run_due(state: &mut State) {
    let until = state.now();
    run_until(state, until);
}

/// Moves the clock `seconds` ahead, running every step due on the way.
pub fn advance(state: &mut State, seconds: i64) {
    let target = state.now() + seconds.max(0);
    run_until(state, target);
    state.clock.offset += seconds.max(0);
}

fn run_until(state: &mut State, until: i64) {
    // A bound on the steps of one call, so a mistake cannot spin forever
    // (years of daily renewals still fit).
    for _ in 0..100_000 {
        let Some((at, due)) = next_due(state, until) else {
            break;
        };
        state.clock.pinned = Some(at);
        step(state, due);
    }
    state.clock.pinned = None;
}

fn step(state: &mut State, due: Due) {
    let now = state.now();
    match due {
        Due::TrialWillEnd(id) => {
            if let Some(s) = state.subscription_mut(&id) {
                s.trial_will_end_sent = true;
            }
            if let Some(object) = state
                .subscription(&id)
                .map(|s| objects::subscription(state, s))
            {
                emit(state, "customer.subscription.trial_will_end", object, None);
            }
        }
        Due::PeriodEnd(id) => renew(state, &id),
        Due::Unpaid(id) => {
            let before = sub_object(state, &id);
            if let Some(s) = state.subscription_mut(&id) {
                s.status = SubStatus::Unpaid;
                s.past_due_since = None;
            }
            let after = sub_object(state, &id);
            updated(state, "customer.subscription.updated", &before, after);
        }
        Due::IncompleteExpired(id) => {
            let before = sub_object(state, &id);
            let latest = state
                .subscription(&id)
                .and_then(|s| s.latest_invoice.clone());
            if let Some(s) = state.subscription_mut(&id) {
                s.status = SubStatus::IncompleteExpired;
                s.ended_at = Some(now);
            }
            if let Some(latest) = latest
                && let Some(invoice) = state.invoice_mut(&latest)
                && invoice.status == InvoiceStatus::Open
            {
                invoice.status = InvoiceStatus::Void;
                invoice.next_payment_attempt = None;
                if let Some(object) = state.invoice(&latest).map(|i| objects::invoice(state, i)) {
                    emit(state, "invoice.voided", object, None);
                }
            }
            let after = sub_object(state, &id);
            updated(state, "customer.subscription.updated", &before, after);
        }
        Due::SessionExpired(id) => {
            if let Some(s) = state.session_mut(&id) {
                s.status = SessionStatus::Expired;
            }
            if let Some(object) = state
                .session(&id)
                .map(|s| objects::checkout_session(state, s))
            {
                emit(state, "checkout.session.expired", object, None);
            }
        }
        Due::RetryPayment(id) => {
            if let Some(i) = state.invoice_mut(&id)
                && i.next_payment_attempt.is_some_and(|t| t <= now)
            {
                // Cleared first: a decline sets the next one.
                i.next_payment_attempt = None;
            }
            attempt_payment(state, &id);
        }
    }
}

fn sub_object(state: &State, id: &str) -> serde_json::Value {
    state
        .subscription(id)
        .map_or(serde_json::Value::Null, |s| objects::subscription(state, s))
}

/// A period's end: cancel (when asked to), or start the next period and
/// invoice it (the trial's end included).
fn renew(state: &mut State, id: &str) {
    let now = state.now();
    let Some(s) = state.subscription(id).cloned() else {
        return;
    };
    if s.cancel_at_period_end {
        let _ = end_subscription(state, id, now);
        return;
    }
    let before = sub_object(state, id);
    let mut lines = Vec::new();
    let mut new_end = now;
    if let Some(sub) = state.subscriptions.iter_mut().find(|x| x.id == id) {
        if sub.status == SubStatus::Trialing {
            sub.status = SubStatus::Active;
        }
        sub.trial_will_end_sent = true;
        for item in &mut sub.items {
            let (interval, count) = state.prices.iter().find(|p| p.id == item.price).map_or(
                ("month".to_owned(), 1),
                |p| {
                    (
                        p.interval.clone().unwrap_or_else(|| "month".into()),
                        p.interval_count,
                    )
                },
            );
            // The step runs at the period's end: the next period starts now.
            item.current_period_start = now;
            item.current_period_end = period_end(now, &interval, count);
            new_end = item.current_period_end;
        }
    }
    if let Some(sub) = state.subscription(id) {
        for item in &sub.items {
            let Some(price) = state.price(&item.price) else {
                continue;
            };
            let name = state
                .product(&price.product)
                .map_or_else(|| price.id.clone(), |p| p.name.clone());
            lines.push(Line {
                id: new_id("il_", 24),
                amount: price.unit_amount * item.quantity as i64,
                description: format!(
                    "{} × {name} (at {} / {})",
                    item.quantity,
                    super::lifecycle::money(price.unit_amount, &price.currency),
                    price.interval.as_deref().unwrap_or("month")
                ),
                price: price.id.clone(),
                quantity: item.quantity,
                period: (item.current_period_start, item.current_period_end),
                proration: false,
                invoice_item: None,
                subscription_item: Some(item.id.clone()),
            });
        }
    }
    let after = sub_object(state, id);
    updated(state, "customer.subscription.updated", &before, after);
    let invoice = create_invoice(state, id, "subscription_cycle", (now, new_end), lines);
    attempt_payment(state, &invoice);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_follow_the_calendar() {
        // 2026-01-31 plus a month is the end of February.
        let jan31 = 1_769_817_600;
        assert_eq!(period_end(jan31, "month", 1), 1_772_236_800);
        assert_eq!(period_end(jan31, "day", 2), jan31 + 2 * 86_400);
        assert!(period_end(jan31, "year", 1) > jan31 + 364 * 86_400);
    }
}
