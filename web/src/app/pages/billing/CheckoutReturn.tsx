// Back from Stripe Checkout (`/billing?checkout=success&session_id=…` or
// `?checkout=canceled`, the URLs the server gives Checkout). On success the payment is
// Stripe's word, but the plan changes only when its webhook has been worked: say so, and
// refetch until the subscription and the plan show it (or say it takes longer).
import { Alert, CloseButton, Group, Loader, Text } from '@mantine/core';
import { notify } from './notify';
import { useEffect, useRef, useState } from 'react';

const POLL_MS = 1_500;
const GIVE_UP_MS = 60_000;

export function CheckoutReturn({
  outcome,
  applied,
  planName,
  refresh,
  onDismiss,
}: {
  outcome: 'success' | 'canceled';
  /** Whether the subscription (and with it the plan) is in place. */
  applied: boolean;
  planName: string;
  refresh: () => void;
  onDismiss: () => void;
}) {
  const [slow, setSlow] = useState(false);
  const started = useRef(Date.now());
  const announced = useRef(false);
  // The plan the payment was for: the name when it was first applied.
  const appliedName = useRef<string | null>(null);
  if (applied && appliedName.current === null) appliedName.current = planName;

  useEffect(() => {
    if (outcome !== 'success' || applied) return;
    const timer = window.setInterval(() => {
      if (Date.now() - started.current > GIVE_UP_MS) {
        setSlow(true);
        window.clearInterval(timer);
        return;
      }
      refresh();
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [outcome, applied, refresh]);

  useEffect(() => {
    if (outcome === 'success' && applied && !announced.current) {
      announced.current = true;
      notify({ color: 'green', title: 'Plan updated', message: `Your workspace is on the ${planName} plan.` });
    }
  }, [outcome, applied, planName]);

  if (outcome === 'canceled') {
    return (
      <Alert color="gray" mb="md" title="Checkout canceled" data-testid="checkout-return" withCloseButton onClose={onDismiss} closeButtonLabel="Dismiss">
        Nothing was charged and your plan is unchanged.
      </Alert>
    );
  }
  if (applied) {
    return (
      <Alert color="green" mb="md" title="Payment received" data-testid="checkout-return" withCloseButton onClose={onDismiss} closeButtonLabel="Dismiss">
        Your workspace is now on the <strong>{appliedName.current ?? planName}</strong> plan; its limits apply at once.
      </Alert>
    );
  }
  return (
    <Alert color={slow ? 'yellow' : 'blue'} mb="md" title="Payment received" data-testid="checkout-return">
      <Group gap="sm" wrap="nowrap" align="flex-start">
        {!slow && <Loader size="xs" mt={4} aria-hidden />}
        <Text size="sm" role="status" aria-live="polite" style={{ flex: 1 }}>
          {slow
            ? 'Stripe has not confirmed the subscription yet. It usually takes seconds; this page will show it after a reload.'
            : 'Your plan updates in a moment, as soon as Stripe confirms the subscription.'}
        </Text>
        {slow && <CloseButton aria-label="Dismiss" onClick={onDismiss} />}
      </Group>
    </Alert>
  );
}
