"""Schemathesis checks for the hub beyond "not a 5xx": every error is exactly {code, message}."""

import json

import schemathesis


@schemathesis.check
def error_is_code_and_message(ctx, response, case):
    if response.status_code < 400:
        return None
    # The pages a link in mail opens (/v1/email/...) answer people, as HTML pages, errors too:
    # their OpenAPI entries say so.
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if case.path.startswith("/v1/email/") and content_type.startswith("text/html"):
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
