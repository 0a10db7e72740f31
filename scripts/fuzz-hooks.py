"""Schemathesis hooks for scripts/fuzz: tenantgate's own checks, and the owner's session.

Loaded by schemathesis through SCHEMATHESIS_HOOKS. Schemathesis's built-in
GraphQL checks are switched off by scripts/fuzz: they count every error that
carries a `path` (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, ...) as a server error,
which for this API is the expected answer to most fuzzed calls. These checks
say what a failure is here instead:

- tenantgate_not_5xx: no response with status 5xx;
- tenantgate_no_internal_error: no GraphQL error with extensions.code INTERNAL;
- tenantgate_errors_have_codes: every GraphQL error carries a string
  extensions.code (the README's promise to clients);
- tenantgate_no_timeout: no 408 (the server's 30 s request deadline fired).

When TENANTGATE_FUZZ_URL and TENANTGATE_FUZZ_REFRESH_TOKEN are set, an auth
provider sends `Authorization: Bearer <access token>` on every request and
trades the refresh token for a fresh access token every 10 minutes (access
tokens last 15), so a phase of any length keeps a signed-in caller.
"""

import json
import os
import urllib.request

import schemathesis


def _payload(response):
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _errors(response):
    payload = _payload(response)
    if not isinstance(payload, dict):
        return []
    errors = payload.get("errors")
    return errors if isinstance(errors, list) else []


def _code(error):
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


@schemathesis.check
def tenantgate_not_5xx(ctx, response, case):
    """No response with a 5xx status."""
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")


@schemathesis.check
def tenantgate_no_internal_error(ctx, response, case):
    """No GraphQL error with extensions.code INTERNAL."""
    for error in _errors(response):
        if _code(error) == "INTERNAL":
            raise AssertionError(f"INTERNAL error: {json.dumps(error)[:500]}")


@schemathesis.check
def tenantgate_errors_have_codes(ctx, response, case):
    """Every GraphQL error has a string extensions.code."""
    if response.status_code >= 400 and _payload(response) is None:
        raise AssertionError(f"HTTP {response.status_code} without a JSON body: {response.text[:300]}")
    for error in _errors(response):
        if not isinstance(_code(error), str):
            raise AssertionError(f"error without extensions.code: {json.dumps(error)[:500]}")


@schemathesis.check
def tenantgate_no_timeout(ctx, response, case):
    """No request ran into the server's request deadline."""
    if response.status_code == 408:
        raise AssertionError("HTTP 408: the server's request deadline fired")


_URL = os.environ.get("TENANTGATE_FUZZ_URL")
_REFRESH_TOKEN = os.environ.get("TENANTGATE_FUZZ_REFRESH_TOKEN")

if _URL and _REFRESH_TOKEN:

    @schemathesis.auth(refresh_interval=600)
    class SignedInSession:
        """A signed-in user's session, kept alive with refreshSession."""

        def __init__(self):
            self.refresh_token = _REFRESH_TOKEN

        def get(self, case, ctx):
            # Schemathesis calls this under a lock, so one refresh token is
            # never presented twice (a reused one would end the session).
            body = json.dumps(
                {
                    "query": "mutation($t: String!) { refreshSession(refreshToken: $t) "
                    "{ accessToken refreshToken } }",
                    "variables": {"t": self.refresh_token},
                }
            ).encode()
            request = urllib.request.Request(
                _URL + "/graphql",
                data=body,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                payload = json.load(answer)
            grant = (payload.get("data") or {}).get("refreshSession")
            if not grant:
                raise RuntimeError(f"refreshSession failed: {json.dumps(payload)[:500]}")
            self.refresh_token = grant["refreshToken"]
            return grant["accessToken"]

        def set(self, case, data, ctx):
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"
