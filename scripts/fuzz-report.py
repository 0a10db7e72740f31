"""Reads the VCR cassettes of a scripts/fuzz run and prints what they hold.

    python fuzz-report.py PHASE=CASSETTE.yaml [PHASE=CASSETTE.yaml ...]

Every request schemathesis sent is in its cassette, shrinking and retries
included, so the counts here are of requests on the wire, not of test cases.
Per phase: requests, HTTP statuses, GraphQL error codes, answers with data
and no error, the slowest answer. Then every finding, with the exact request
(query and variables) that triggered it:

- a 5xx status;
- a GraphQL error with extensions.code INTERNAL;
- a GraphQL error without a string extensions.code, or a 4xx without JSON;
- a 408 (the server's request deadline fired) or no answer at all (the
  client's timeout or a dropped connection: a hang or a crash).

Exits 1 when there is any finding.
"""

import base64
import collections
import json
import sys

import yaml

SLOW_SECONDS = 5.0


def body_text(part):
    body = (part or {}).get("body") or {}
    if "base64_string" in body:
        return base64.b64decode(body["base64_string"]).decode("utf-8", "replace")
    return body.get("string") or ""


def request_summary(interaction):
    text = body_text(interaction["request"])
    try:
        payload = json.loads(text)
    except ValueError:
        return {"raw body": text[:2000]}
    if isinstance(payload, dict):
        shown = {"query": payload.get("query")}
        if payload.get("variables") is not None:
            shown["variables"] = payload["variables"]
        return shown
    return {"body": payload}


def findings_of(interaction):
    response = interaction.get("response")
    if response is None:
        return ["no answer (client timeout or connection dropped)"]
    status = int(response["status"]["code"])
    found = []
    if status >= 500:
        found.append(f"HTTP {status}")
    if status == 408:
        found.append("HTTP 408: the request deadline fired")
    text = body_text(response)
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = None
    if payload is None and status >= 400:
        found.append(f"HTTP {status} without a JSON body")
    errors = payload.get("errors") if isinstance(payload, dict) else None
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if code == "INTERNAL":
            found.append("GraphQL error INTERNAL")
        elif not isinstance(code, str):
            found.append("GraphQL error without extensions.code")
    return found


def codes_of(response):
    try:
        payload = json.loads(body_text(response) or "null")
    except ValueError:
        return None, []
    if not isinstance(payload, dict):
        return None, []
    errors = payload.get("errors")
    codes = []
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        codes.append(extensions.get("code") if isinstance(extensions, dict) else None)
    return payload, codes


def main(args):
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    findings = []
    totals = collections.Counter()
    for arg in args:
        phase, _, path = arg.partition("=")
        with open(path, encoding="utf-8") as stream:
            cassette = yaml.load(stream, Loader=loader) or {}
        interactions = cassette.get("http_interactions") or []
        statuses = collections.Counter()
        codes = collections.Counter()
        with_data = 0
        slowest = 0.0
        slow = 0
        for interaction in interactions:
            response = interaction.get("response")
            if response is not None:
                statuses[response["status"]["code"]] += 1
                elapsed = float(response.get("elapsed") or 0)
                slowest = max(slowest, elapsed)
                slow += elapsed > SLOW_SECONDS
                payload, error_codes = codes_of(response)
                codes.update(code or "(none)" for code in error_codes)
                if isinstance(payload, dict) and payload.get("data") and not error_codes:
                    with_data += 1
            else:
                statuses["no answer"] += 1
            for what in findings_of(interaction):
                findings.append((phase, what, interaction))
        totals["requests"] += len(interactions)
        print(f"phase {phase}: {len(interactions)} requests")
        print(f"  HTTP statuses: {dict(sorted(statuses.items()))}")
        print(f"  GraphQL error codes: {dict(codes.most_common())}")
        print(f"  answers with data and no error: {with_data}")
        print(f"  slowest answer: {slowest * 1000:.0f} ms; answers over {SLOW_SECONDS:.0f} s: {slow}")
    print(f"all phases: {totals['requests']} requests, {len(findings)} findings")
    seen = set()
    for phase, what, interaction in findings:
        request = request_summary(interaction)
        key = (phase, what, json.dumps(request, sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        response = interaction.get("response")
        print(f"\nFINDING [{phase}] {what} (test case {interaction.get('id')}, "
              f"{interaction.get('recorded_at')})")
        print("  request: " + json.dumps(request, ensure_ascii=False))
        if response is not None:
            print(f"  answer ({response['status']['code']}): {body_text(response)[:1000]}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
