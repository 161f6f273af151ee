"""Drives the ess emulator with Tencent's official Python SDK and CLI (tccli), and its admin API
(`/_emulator/`) the way a Python service's tests would.

usage: official_clients.py URL SECRET_ID SECRET_KEY TCCLI

Each case prints `ok NAME` or `FAIL NAME: why`; the last line counts them. Exit status 1 if
any case failed.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ess.v20201111 import ess_client, models

URL, SECRET_ID, SECRET_KEY, TCCLI = sys.argv[1:5]
FLOW_ID = "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm"
PERSON = {"ApproverType": 1, "ApproverName": "张三", "ApproverMobile": "13800000000"}
EMPLOYEE = {
    "ApproverType": 0,
    "ApproverName": "李四",
    "ApproverMobile": "13900000000",
    "OrganizationName": "示例科技有限公司",
}

results = []


def case(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
        except Exception as e:  # noqa: BLE001 - every failure is reported, none hidden
            results.append((name, "%s: %s" % (type(e).__name__, e)))
        return fn

    return wrap


def client(secret_id=SECRET_ID, secret_key=SECRET_KEY, endpoint=URL, protocol=None):
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol=protocol))
    return ess_client.EssClient(credential.Credential(secret_id, secret_key), "", profile)


def sign_url_request(body):
    request = models.CreateFlowSignUrlRequest()
    request.from_json_string(json.dumps(body))
    return request


def expect_error(code, call):
    try:
        call()
    except TencentCloudSDKException as e:
        if e.code != code:
            raise AssertionError("expected %s, got %s (%s)" % (code, e.code, e.message))
        if not e.requestId:
            raise AssertionError("the error has no RequestId")
        return
    raise AssertionError("expected %s, the call succeeded" % code)


@case("python sdk: sign link for a personal signer (Host with scheme, as the SDK sends it)")
def _():
    response = client().CreateFlowSignUrl(sign_url_request({"FlowId": FLOW_ID, "FlowApproverInfos": [PERSON]}))
    info = response.FlowApproverUrlInfos[0]
    assert info.SignUrl.startswith(URL + "/s/"), info.SignUrl
    assert info.ApproverName == PERSON["ApproverName"], info.ApproverName
    assert response.RequestId


@case("python sdk: initiator preview (Host without scheme)")
def _():
    host = URL.split("://", 1)[1]
    response = client(endpoint=host, protocol="http").CreateFlowSignUrl(
        sign_url_request({"FlowId": FLOW_ID, "UrlType": 1})
    )
    assert len(response.FlowApproverUrlInfos) == 1


@case("python sdk: unknown flow is ResourceNotFound.Flow")
def _():
    request = sign_url_request({"FlowId": "yD" + "x" * 30, "FlowApproverInfos": [PERSON]})
    expect_error("ResourceNotFound.Flow", lambda: client().CreateFlowSignUrl(request))


@case("python sdk: missing FlowId is MissingParameter")
def _():
    request = sign_url_request({"UrlType": 1})
    expect_error("MissingParameter", lambda: client().CreateFlowSignUrl(request))


@case("python sdk: wrong key is AuthFailure.SignatureFailure")
def _():
    request = sign_url_request({"FlowId": FLOW_ID, "UrlType": 1})
    wrong = client(secret_key=SECRET_KEY + "x")
    expect_error("AuthFailure.SignatureFailure", lambda: wrong.CreateFlowSignUrl(request))


@case("python sdk: unknown SecretId is AuthFailure.SecretIdNotFound")
def _():
    request = sign_url_request({"FlowId": FLOW_ID, "UrlType": 1})
    stranger = client(secret_id="AKIDnobodyknowsthis")
    expect_error("AuthFailure.SecretIdNotFound", lambda: stranger.CreateFlowSignUrl(request))


@case("python sdk: tampered body is AuthFailure.SignatureFailure")
def _():
    tampering = client()
    send = tampering.request.send_request

    def tamper(req):
        # Signed already: change the body on its way out.
        req.data = req.data.replace("13800000000", "13800000001")
        return send(req)

    tampering.request.send_request = tamper
    request = sign_url_request({"FlowId": FLOW_ID, "FlowApproverInfos": [PERSON]})
    expect_error("AuthFailure.SignatureFailure", lambda: tampering.CreateFlowSignUrl(request))


@case("python sdk: stale timestamp is AuthFailure.SignatureExpire")
def _():
    real = time.time
    time.time = lambda: real() - 1000
    try:
        request = sign_url_request({"FlowId": FLOW_ID, "UrlType": 1})
        expect_error("AuthFailure.SignatureExpire", lambda: client().CreateFlowSignUrl(request))
    finally:
        time.time = real


def tccli(secret_key, *args):
    home = tempfile.mkdtemp()  # no user configuration leaks in
    command = [
        TCCLI, "ess", "CreateFlowSignUrl",
        "--secretId", SECRET_ID, "--secretKey", secret_key,
        "--region", "ap-guangzhou", "--endpoint", URL,
    ] + list(args)
    env = dict(os.environ, HOME=home)
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@case("tccli: sign link for an enterprise signer")
def _():
    done = tccli(SECRET_KEY, "--FlowId", FLOW_ID, "--FlowApproverInfos", json.dumps([EMPLOYEE]))
    assert done.returncode == 0, done.stdout + done.stderr
    info = json.loads(done.stdout)["FlowApproverUrlInfos"][0]
    assert info["SignUrl"].startswith(URL + "/s/"), info
    assert info["ApproverType"] == 0, info


@case("tccli: wrong key is AuthFailure.SignatureFailure")
def _():
    done = tccli(SECRET_KEY + "x", "--FlowId", FLOW_ID, "--UrlType", "1")
    assert done.returncode != 0, done.stdout
    assert "AuthFailure.SignatureFailure" in done.stdout + done.stderr, done.stdout + done.stderr


def admin(method, path, body=None):
    """Calls the emulator's admin API: (HTTP status, JSON answer)."""
    # A POST is always JSON (the admin API refuses anything else, as a web page's form).
    if method == "POST" and body is None:
        body = {}
    data = None if body is None else json.dumps(body).encode()
    headers = {} if body is None else {"Content-Type": "application/json"}
    request = urllib.request.Request(URL + "/_emulator" + path, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def model(cls, body):
    request = cls()
    request.from_json_string(json.dumps(body))
    return request


OPERATOR = {"UserId": "operator-1"}


@case("admin api: a fault set over HTTP reaches the official SDK, and the call is recorded")
def _():
    assert admin("POST", "/reset")[0] == 200
    status, added = admin("POST", "/faults", {"rule": "CreateFlow=error:LimitExceeded*1"})
    assert status == 201, added
    create = model(models.CreateFlowRequest, {"Operator": OPERATOR, "FlowName": "f", "Approvers": [PERSON]})
    expect_error("LimitExceeded", lambda: client().CreateFlow(create))
    client().CreateFlow(create)
    status, calls = admin("GET", "/calls?action=CreateFlow")
    calls = calls["calls"]
    assert [c["code"] for c in calls] == ["fault:error:LimitExceeded", None], calls
    assert calls[1]["headers"]["x-tc-action"] == "CreateFlow", calls[1]["headers"]
    assert "authorization" not in calls[1]["headers"], calls[1]["headers"]
    assert calls[1]["body"]["FlowName"] == "f", calls[1]["body"]


@case("admin api: a seeded template, a flow created by the SDK and signed over HTTP")
def _():
    status, seeded = admin("POST", "/templates", {
        "TemplateId": "tpl-lease",
        "Recipients": [{"RecipientId": "r-1", "RecipientType": "INDIVIDUAL"}],
    })
    assert status == 201, seeded
    created = client().CreateFlow(
        model(models.CreateFlowRequest, {"Operator": OPERATOR, "FlowName": "lease", "Approvers": [PERSON]})
    )
    flow_id = created.FlowId
    unknown = model(models.CreateDocumentRequest, {"Operator": OPERATOR, "FlowId": flow_id, "TemplateId": "tpl-x"})
    expect_error("ResourceNotFound.Template", lambda: client().CreateDocument(unknown))
    client().CreateDocument(
        model(models.CreateDocumentRequest, {"Operator": OPERATOR, "FlowId": flow_id, "TemplateId": "tpl-lease"})
    )
    client().StartFlow(model(models.StartFlowRequest, {"Operator": OPERATOR, "FlowId": flow_id}))
    status, flow = admin("POST", "/flows/%s/sign" % flow_id, {"signer": 0})
    assert status == 200 and flow["status"] == 4, flow
    described = client().DescribeFlowInfo(model(models.DescribeFlowInfoRequest, {"FlowIds": [flow_id]}))
    assert described.FlowDetailInfos[0].FlowStatus == 4, described.to_json_string()


@case("admin api: an override answers the SDK, then reset forgets everything")
def _():
    url = "http://127.0.0.1:1/signed.pdf"
    status, added = admin("POST", "/overrides", {
        "action": "DescribeFileUrls",
        "when": {"BusinessIds": ["flow-a"]},
        "answers": [{"FileUrls": [{"Url": url, "Option": ""}], "TotalCount": 1}],
    })
    assert status == 201, added
    request = model(models.DescribeFileUrlsRequest, {
        "Operator": OPERATOR, "BusinessType": "FLOW", "BusinessIds": ["flow-a"],
    })
    assert client().DescribeFileUrls(request).FileUrls[0].Url == url
    assert admin("POST", "/reset")[0] == 200
    assert admin("GET", "/calls")[1]["calls"] == []
    assert admin("GET", "/overrides")[1]["overrides"] == []
    flows = [f["flow_id"] for f in admin("GET", "/flows")[1]["flows"]]
    assert flows == [FLOW_ID], flows


def started_flow(approver=PERSON):
    """A flow created, given a document and started by the SDK: its FlowId."""
    flow_id = client().CreateFlow(
        model(models.CreateFlowRequest, {"Operator": OPERATOR, "FlowName": "f", "Approvers": [approver]})
    ).FlowId
    client().CreateDocument(
        model(models.CreateDocumentRequest, {"Operator": OPERATOR, "FlowId": flow_id, "TemplateId": "tpl-any"})
    )
    client().StartFlow(model(models.StartFlowRequest, {"Operator": OPERATOR, "FlowId": flow_id}))
    return flow_id


@case("python sdk: a business clock moved a day ahead does not break the SDK's signatures")
def _():
    assert admin("POST", "/reset")[0] == 200
    status, clock = admin("POST", "/clock", {"advance_seconds": 86400})
    assert status == 200 and clock["offset_seconds"] == 86400, clock
    try:
        # Signed with the machine's clock, as the SDK always signs: ESS checks the signature
        # against real time, and so does the emulator.
        response = client().CreateFlowSignUrl(sign_url_request({"FlowId": FLOW_ID, "UrlType": 1}))
        assert response.RequestId
    finally:
        admin("POST", "/clock", {"offset_seconds": 0})


@case("python sdk: a signer named by the SignId DescribeFlowInfo gives gets a link")
def _():
    flow_id = started_flow()
    described = client().DescribeFlowInfo(model(models.DescribeFlowInfoRequest, {"FlowIds": [flow_id]}))
    sign_id = described.FlowDetailInfos[0].FlowApproverInfos[0].SignId
    assert sign_id, described.to_json_string()
    response = client().CreateFlowSignUrl(
        sign_url_request({"FlowId": flow_id, "FlowApproverInfos": [{"ApproverType": 1, "SignId": sign_id}]})
    )
    assert response.FlowApproverUrlInfos[0].SignUrl.startswith(URL + "/s/"), response.to_json_string()


@case("python sdk: an employee named by UserId gets a link by that UserId")
def _():
    employee = {"ApproverType": 0, "UserId": "employee-7", "OrganizationName": EMPLOYEE["OrganizationName"]}
    flow_id = started_flow(employee)
    response = client().CreateFlowSignUrl(sign_url_request({"FlowId": flow_id, "FlowApproverInfos": [employee]}))
    assert len(response.FlowApproverUrlInfos) == 1, response.to_json_string()


@case("python sdk: the unsignedPayload option (X-TC-Content-SHA256: UNSIGNED-PAYLOAD) verifies")
def _():
    unsigned = client()
    unsigned.profile.unsignedPayload = True
    response = unsigned.CreateFlowSignUrl(sign_url_request({"FlowId": FLOW_ID, "UrlType": 1}))
    assert response.RequestId


@case("python sdk: a DeadLine already past is InvalidParameter.FlowDeadLine")
def _():
    past = int(time.time()) - 60
    body = {"Operator": OPERATOR, "FlowName": "late", "Approvers": [PERSON], "DeadLine": past}
    request = model(models.CreateFlowRequest, body)
    expect_error("InvalidParameter.FlowDeadLine", lambda: client().CreateFlow(request))


@case("python sdk: StartFlow on a cancelled flow is OperationDenied.FlowHasTerminated")
def _():
    flow_id = client().CreateFlow(
        model(models.CreateFlowRequest, {"Operator": OPERATOR, "FlowName": "f", "Approvers": [PERSON]})
    ).FlowId
    client().CreateDocument(
        model(models.CreateDocumentRequest, {"Operator": OPERATOR, "FlowId": flow_id, "TemplateId": "tpl-any"})
    )
    client().CancelFlow(model(models.CancelFlowRequest, {"Operator": OPERATOR, "FlowId": flow_id, "CancelMessage": "no"}))
    start = model(models.StartFlowRequest, {"Operator": OPERATOR, "FlowId": flow_id})
    expect_error("OperationDenied.FlowHasTerminated", lambda: client().StartFlow(start))


@case("admin api: callbacks, templates, the service clock's skew and reports over HTTP")
def _():
    assert admin("POST", "/reset")[0] == 200
    status, added = admin("POST", "/callbacks", {"url": "http://127.0.0.1:9/cb", "key": "0123456789abcdefghijklmnopqrstuv"})
    assert status == 201 and added["urls"] == ["http://127.0.0.1:9/cb"], added
    assert admin("POST", "/callbacks/faults", {"fault": "duplicate"})[0] == 201
    status, listed = admin("GET", "/callbacks")
    assert status == 200 and listed["deliveries"] == [], listed
    status, removed = admin("DELETE", "/callbacks", {"url": "http://127.0.0.1:9/cb"})
    assert status == 200 and removed["urls"] == [], removed
    status, _ = admin("POST", "/templates", {"TemplateId": "tpl-http"})
    assert status == 201
    assert [t["TemplateId"] for t in admin("GET", "/templates")[1]["templates"]] == ["tpl-http"]
    # A skewed service clock refuses the SDK's timestamp, as a server with a wrong clock would.
    status, clock = admin("POST", "/clock", {"skew_seconds": 3600})
    assert status == 200 and clock["skew_seconds"] == 3600, clock
    request = sign_url_request({"FlowId": FLOW_ID, "UrlType": 1})
    expect_error("AuthFailure.SignatureExpire", lambda: client().CreateFlowSignUrl(request))
    admin("POST", "/clock", {"skew_seconds": 0})
    status, refused = admin("POST", "/reports/yDnoSuchReport00000000000000000000/fail")
    assert status == 404, refused
    assert admin("POST", "/reset")[0] == 200


failed = [(n, why) for n, why in results if why]
for name, why in results:
    print("FAIL %s: %s" % (name, why) if why else "ok %s" % name)
print("official clients: %d ok, %d failing" % (len(results) - len(failed), len(failed)))
sys.exit(1 if failed else 0)
