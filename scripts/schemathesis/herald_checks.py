"""Schemathesis checks for the hub beyond "not a 5xx": every error is exactly {code, message}."""

import json

import schemathesis


@schemathesis.check
def error_is_code_and_message(ctx, response, case):
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} with a body that is not JSON: {response.content[:200]!r}")
    if not isinstance(body, dict) or sorted(body) != ["code", "message"]:
        raise AssertionError(f"{response.status_code}: the error is not exactly {{code, message}}: {body!r}")
    if not isinstance(body["code"], str) or not isinstance(body["message"], str) or not body["message"]:
        raise AssertionError(f"{response.status_code}: the error has an empty or non-string field: {body!r}")
    return None
