"""Regenerates src/stripe_sim/templates.json from Stripe's fixtures3.json:
   python3 scripts/stripe_sim_templates.py ../shared/stripe/fixtures3.json src/stripe_sim/templates.json"""
import json, copy, sys
R = json.load(open(sys.argv[1]))['resources']
t = {}
t['_note'] = ("Stripe's published example objects (stripe/openapi fixtures3.json, 2026-07-29) for the "
  "resources the simulator serves, with the fixture's placeholder values (made-up discounts, "
  "shipping, transfer data, pending updates, nonsense numbers) replaced by what Stripe sends for "
  "a plain card subscription in test mode. objects.rs fills in ids and every field a request or "
  "the simulated lifecycle sets.")
c = copy.deepcopy(R['customer'])
c.update(address=None, discount=None, shipping=None, currency=None, email=None, name=None,
         invoice_settings={"custom_fields": None, "default_payment_method": None, "footer": None, "rendering_options": None},
         customer_account=None, business_name=None, individual_name=None)
t['customer'] = c
p = copy.deepcopy(R['product'])
p.update(default_price=None, description=None, package_dimensions=None, shippable=None, type="service")
t['product'] = p
pr = copy.deepcopy(R['price'])
pr.update(custom_unit_amount=None, transform_quantity=None, lookup_key=None)
pr['recurring'] = {"interval": "month", "interval_count": 1, "meter": None, "usage_type": "licensed", "trial_period_days": None}
t['price'] = pr
pl = copy.deepcopy(R['subscription']['items']['data'][0]['plan'])
pl.update(billing_scheme="per_unit", interval_count=1, livemode=False, metadata={}, transform_usage=None, tiers_mode=None)
t['plan'] = pl
si = copy.deepcopy(R['subscription_item'])
si['billing_thresholds'] = None
t['subscription_item'] = si
s = copy.deepcopy(R['subscription'])
s.update(automatic_tax={"enabled": False, "liability": None, "disabled_reason": None},
         billing_cycle_anchor_config=None, cancel_at=None, canceled_at=None,
         cancellation_details={"comment": None, "feedback": None, "reason": None},
         ended_at=None, invoice_settings={"account_tax_ids": None, "issuer": {"type": "self"}},
         next_pending_invoice_item_invoice=None, pause_collection=None,
         payment_settings={"payment_method_options": None, "payment_method_types": None, "save_default_payment_method": "off"},
         pending_invoice_item_interval=None, pending_update=None, transfer_data=None,
         trial_end=None, trial_start=None, cancel_at_period_end=False, billing_thresholds=None,
         billing_mode={"type": "classic"}, customer_account=None, managed_payments=None, billing_schedules=[])
s['items'] = {"object": "list", "data": [], "has_more": False, "url": "/v1/subscription_items?subscription=sub_"}
t['subscription'] = s
inv = copy.deepcopy(R['invoice'])
inv.update(automatic_tax={"enabled": False, "liability": None, "status": None, "disabled_reason": None, "provider": None},
           customer_address=None, customer_shipping=None, due_date=None, from_invoice=None,
           last_finalization_error=None, shipping_cost=None, shipping_details=None,
           amount_overpaid=0, webhooks_delivered_at=None, next_payment_attempt=None, effective_at=None,
           payment_settings={"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
           rendering=None, customer_account=None, auto_advance=True)
inv['lines'] = {"object": "list", "data": [], "has_more": False, "url": "/v1/invoices/in_/lines"}
inv['parent'] = {"quote_details": None, "subscription_details": {"metadata": {}, "subscription": "sub_"}, "type": "subscription_details"}
t['invoice'] = inv
li = copy.deepcopy(R['line_item'])
li.update(pretax_credit_amounts=[], taxes=[], subscription=None)
li['parent'] = {"invoice_item_details": None, "subscription_item_details": {"invoice_item": None, "proration": False,
   "proration_details": {"credited_items": None}, "subscription": "sub_", "subscription_item": "si_"}, "type": "subscription_item_details"}
li['pricing'] = {"price_details": {"price": "price_", "product": "prod_"}, "type": "price_details", "unit_amount_decimal": "0"}
t['invoice_line_item'] = li
ii = copy.deepcopy(R['invoiceitem'])
ii.update(net_amount=0, quantity_decimal="1", customer_account=None, proration=True)
ii['parent'] = {"subscription_details": {"subscription": "sub_", "subscription_item": "si_"}, "type": "subscription_details"}
ii['pricing'] = {"price_details": {"price": "price_", "product": "prod_"}, "type": "price_details", "unit_amount_decimal": "0"}
t['invoiceitem'] = ii
cs = copy.deepcopy(R['checkout.session'])
cs.update(after_expiration=None, custom_text={"after_submit": None, "shipping_address": None, "submit": None, "terms_of_service_acceptance": None},
          customer_details=None, consent=None, consent_collection=None, invoice_creation=None,
          mode="subscription", payment_intent=None, payment_method_collection="always",
          payment_method_configuration_details=None, payment_method_options=None,
          shipping_address_collection=None, shipping_cost=None,
          total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
          adaptive_pricing=None, collected_information=None, permissions=None, wallet_options=None,
          currency_conversion=None, managed_payments=None, ui_mode="hosted_page", billing_address_collection="auto",
          saved_payment_method_options={"allow_redisplay_filters": ["always"], "payment_method_remove": None, "payment_method_save": None})
t['checkout_session'] = cs
item = copy.deepcopy(R['item'])
item.update(metadata={}, adjustable_quantity=None)
t['checkout_line_item'] = item
bps = copy.deepcopy(R['billing_portal.session'])
bps.update(flow=None, livemode=False)
t['billing_portal_session'] = bps
ev = copy.deepcopy(R['event'])
ev['data'] = {"object": {}}
t['event'] = ev
json.dump(t, open(sys.argv[2], 'w'), indent=1)
