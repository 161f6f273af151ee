"""Checks TC3 signatures of captured requests with the official Python SDK's own code.

Usage: verify_tc3.py REQUESTS.json SECRET_KEY

REQUESTS.json holds a list of {"headers": {name: value}, "body": str} as a server received
them. For each, the SDK's AbstractClient._get_tc3_signature recomputes the signature from the
same Host, Content-Type, timestamp and body, and the credential-scope date must be the UTC
date of the timestamp, as the SDK derives it. Prints one line per request and exits non-zero
on any mismatch.
"""
import json
import sys
from datetime import datetime, timezone

from tencentcloud.common.abstract_client import AbstractClient
from tencentcloud.common.http.request import RequestInternal


def main(path, secret_key):
    requests = json.load(open(path, encoding="utf-8"))
    failures = 0
    for index, captured in enumerate(requests):
        headers = {k.lower(): v for k, v in captured["headers"].items()}
        authorization = headers["authorization"]
        scope = authorization.split("Credential=", 1)[1].split(",", 1)[0]
        secret_id, date, service, _ = scope.split("/")
        timestamp = int(headers["x-tc-timestamp"])
        sdk_date = datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")
        request = RequestInternal(host=headers["host"], method="POST", uri="/")
        request.header["Content-Type"] = headers["content-type"]
        request.header["Host"] = headers["host"]
        request.header["X-TC-Timestamp"] = headers["x-tc-timestamp"]
        request.data = captured["body"]
        client = AbstractClient.__new__(AbstractClient)
        signature = client._get_tc3_signature(None, request, sdk_date, service, secret_key)
        expected = (
            "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, "
            "SignedHeaders=content-type;host, Signature=%s" % (secret_id, sdk_date, service, signature)
        )
        ok = expected == authorization and date == sdk_date
        failures += 0 if ok else 1
        ascii_body = all(ord(c) < 128 for c in captured["body"])
        print("%s request %d (%s body, %s): %s" % (
            "ok" if ok else "MISMATCH", index, "ASCII" if ascii_body else "non-ASCII",
            headers.get("x-tc-action"), "" if ok else "expected " + expected))
    print("%d verified, %d mismatched" % (len(requests) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
