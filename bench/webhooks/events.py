#!/usr/bin/env python3
"""Writes signed Stripe events for bench/webhooks.sh, one per line:
<Stripe-Signature header>\t<body>. Signed now, as Stripe signs (HMAC-SHA256 of
"t.body" with the endpoint secret), so a run must start within 300 s.

    events.py SECRET COUNT KIND > file     KIND: new | forged
"""
import hashlib
import hmac
import json
import sys
import time
import uuid

secret, count, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
now = int(time.time())
out = sys.stdout
for n in range(count):
    event_id = "evt_bench" + uuid.uuid4().hex
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": now,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "customer.subscription.updated",
            "data": {
                "object": {
                    "id": "sub_bench%d" % n,
                    "object": "subscription",
                    # No tenant has this customer: the worker records the
                    # event as done without calling Stripe.
                    "customer": "cus_benchnobody",
                    "status": "active",
                }
            },
        },
        separators=(",", ":"),
    )
    key = secret if kind == "new" else secret + "x"
    sig = hmac.new(key.encode(), ("%d.%s" % (now, body)).encode(), hashlib.sha256).hexdigest()
    out.write("t=%d,v1=%s\t%s\n" % (now, sig, body))
