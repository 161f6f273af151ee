"""Sends every official request example (the pinned tccli's examples.json) to the ess emulator
with Tencent's official Python SDK. Tencent shows these requests as valid, so the emulator must
not refuse one as malformed (MissingParameter*, InvalidParameter*, InvalidParameterValue*,
UnknownParameter). Other answers (an unknown flow, a state the emulator's flows are not in)
concern the emulator's data, not the request's form.

usage: official_examples.py URL SECRET_ID SECRET_KEY

Prints `malformed ACTION #INDEX: CODE: MESSAGE` per refusal, `expected ...` for the examples
whose values are broken on their face, and a closing `N passed, M failed` line. Exit status 1
if any example was refused as malformed, or a broken one was accepted.
"""

import json
import os
import sys
import time
import urllib.request

import tccli
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

URL, SECRET_ID, SECRET_KEY = sys.argv[1:4]

# (action, index in its list): examples whose values are broken on their face, which the
# emulator (like the client's validation) refuses: a 12-digit mobile, masked 26- and
# 31-character RecipientIds where the service's are 32, a masked 20-character CallbackKey
# where an AES-256 key is 32.
BROKEN = {
    ("CreateFlow", 0),
    ("CreatePrepareFlow", 2),
    ("CreatePrepareFlow", 3),
    ("ModifyApplicationCallbackInfo", 1),
    # A value outside the list the member's upstream doc gives: the emulator refuses a value
    # the docs do not list (what ESS does with one is not documented; refusing is the strict
    # reading). The client sends such values unchanged. (Three more such examples show the
    # service refusing them in their official answer, so they need no entry.)
    ("DescribeExtendedServiceAuthInfos", 2),  # ExtendServiceType TEST
}

MALFORMED = ("MissingParameter", "InvalidParameter", "UnknownParameter")
# Codes of the malformed classes that name data the emulator does not hold (a ReportId it
# never issued), not the request's form.
ABOUT_DATA = ("InvalidParameter.DataNotFound",)

examples_path = os.path.join(
    os.path.dirname(tccli.__file__), "services", "ess", "v20201111", "examples.json"
)
with open(examples_path, encoding="utf-8") as f:
    examples = json.load(f)
examples = examples.get("actions", examples)

# The examples were written when their deadlines lay ahead (CreateFlow's DeadLine of
# 2020-11-09, ModifyFlowDeadline's of 2024): the emulator refuses a deadline already past
# (InvalidParameter.FlowDeadLine, its strict reading of that code), so its business clock
# goes back to their time, 2020-11-01. Signatures are still checked against real time, as ESS checks them.
EXAMPLES_ERA = 1604188800
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
moved = urllib.request.Request(
    URL + "/_emulator/clock",
    data=json.dumps({"offset_seconds": EXAMPLES_ERA - int(time.time())}).encode(),
    method="POST",
    headers={"Content-Type": "application/json"},
)
with opener.open(moved, timeout=30) as answer:
    assert answer.status == 200, answer.status

profile = ClientProfile(httpProfile=HttpProfile(endpoint=URL))
client = CommonClient("ess", "2020-11-11", credential.Credential(SECRET_ID, SECRET_KEY), "", profile)

passed, failed = 0, 0
for action in sorted(examples):
    for index, example in enumerate(examples[action]):
        raw = example["input"].replace("\r\n", "\n")
        body = json.loads(raw.split("\n\n", 1)[1])
        try:
            client.call_json(action, body)
            code = None
        except TencentCloudSDKException as e:
            code, message = e.code or "", e.message or ""
        malformed = code is not None and code.startswith(MALFORMED) and code not in ABOUT_DATA
        # The official answer refuses the request's form too (a value over a documented
        # maximum): the emulator may refuse it, or not know the rule.
        official = example["output"]
        official = json.loads(official) if isinstance(official, str) else official
        official_code = official.get("Response", {}).get("Error", {}).get("Code", "")
        if official_code.startswith(MALFORMED):
            passed += 1
            if malformed:
                print("refused %s #%d: %s, as the service did (%s)" % (action, index, code, official_code))
        elif (action, index) in BROKEN:
            if malformed:
                passed += 1
                print("expected %s #%d: %s" % (action, index, code))
            else:
                failed += 1
                print("accepted %s #%d, which carries broken values" % (action, index))
        elif malformed:
            failed += 1
            print("malformed %s #%d: %s: %s" % (action, index, code, message))
        else:
            passed += 1

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
