"""Sequential CreateFlowSignUrl calls with Tencent's official Python SDK (for `cargo xtask bench`).

usage: python_sdk.py URL CALLS REQUEST_JSON [CA_FILE]

CA_FILE: the test CA an https URL's certificate chains to (the SDK's `certification`).

Prints one line of JSON: calls, seconds, CPU microseconds per call.
"""

import json
import sys
import time

from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ess.v20201111 import ess_client, models

url, calls, body = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ca = sys.argv[4] if len(sys.argv) > 4 else None
# Host and scheme apart: given a URL, the SDK would send it whole as the Host header.
scheme, host = url.split("://", 1)
profile = ClientProfile(
    httpProfile=HttpProfile(endpoint=host, protocol=scheme, keepAlive=True, certification=ca)
)
client = ess_client.EssClient(credential.Credential("AKIDbench", "bench-secret-key"), "", profile)
request = models.CreateFlowSignUrlRequest()
request.from_json_string(body)

for _ in range(100):  # warm up: connection, imports
    client.CreateFlowSignUrl(request)
started, cpu = time.perf_counter(), time.process_time()
for _ in range(calls):
    client.CreateFlowSignUrl(request)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"calls": calls, "seconds": seconds, "cpu_us_per_call": cpu / calls * 1e6}))
