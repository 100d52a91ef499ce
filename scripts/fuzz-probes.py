#!/usr/bin/env python3
"""Hostile inputs Schemathesis rarely draws, sent one by one to a seeded server (scripts/fuzz).

    fuzz-probes.py API_URL TOKENS_JSON [SERVER_PID] [--skip REGEX]

NUL and control characters in every free-text parameter and body field, numbers at and past
Int64, dates before year 1 and after 9999, oversized bodies on steps without fields, deep JSON.
Every probe must get an answer below 500 and leave the server running; exit 1 listing those
that did not (with the answer), so that each one is a finding to fix. A probe that kills the
server stops the run; `--skip REGEX` leaves out probes whose "METHOD path" matches, to look past
a known crash. Stdlib only.
"""
import http.client
import json
import os
import re
import sys
import urllib.parse

args = sys.argv[1:]
SKIP = None
if "--skip" in args:
    at = args.index("--skip")
    SKIP = re.compile(args[at + 1])
    del args[at:at + 2]
API, TOKENS = args[0], json.load(open(args[1]))
SERVER_PID = int(args[2]) if len(args) > 2 else None
url = urllib.parse.urlsplit(API)

NUL, CTRL = "a\u0000b", "a\u0001\u001fb"
BIG = ["0", "-1", "10001", "4611686018427387904", "9223372036854775807", "9223372036854775808", "1e400", "+1", " 1"]
DATES = ["0000-01-01", "-0001-01-01T00:00:00Z", "0000-12-31T23:59:59Z", "10000-01-01", "9999-12-31T23:59:59Z",
         "2026-02-30", "2026-13-01", "1969-12-31T23:59:59.999999999Z", "2026-01-01T00:00:00+99:00"]


def q(**params):
    return "?" + urllib.parse.urlencode(params)


def probes():
    """(role, method, path, headers, body) tuples."""
    A = "admin"
    for value in (NUL, CTRL, "x" * 5000):
        for name in ("q", "reason", "agency"):
            params = {"q": "sekar", "reason": "probe", name: value}
            yield A, "GET", "/v1/accounts" + q(**params), {}, None
        yield A, "GET", "/v1/accounts/sekar.fuzz" + q(reason=value), {}, None
        for name in ("actor", "action", "from", "to"):
            yield A, "GET", "/v1/audit" + q(**{name: value}), {}, None
        for name in ("state", "due"):
            yield A, "GET", "/v1/requests" + q(**{name: value}), {}, None
        for name in ("from", "to", "format"):
            yield A, "GET", "/v1/reports/sla" + q(**{name: value}), {}, None
        for name in ("actor", "unexplained", "page"):
            yield A, "GET", "/v1/deviations" + q(**{name: value}), {}, None
        yield A, "GET", "/v1/requests/1/export" + q(reason=value), {}, None
        yield "staf", "POST", "/v1/requests/1/documents" + q(type="other", file_name=value), {"Content-Type": "application/pdf"}, b"%PDF-1.7\n"
        yield A, "POST", "/v1/provisioning/batches" + q(dry_run=value), {"Content-Type": "text/csv"}, b"user_id,role,full_name,nip,email,agency\n"
    for page in BIG:
        yield A, "GET", "/v1/accounts" + q(q="sekar", reason="probe", page=page), {}, None
        yield A, "GET", "/v1/accounts" + q(q="zzzz qqqq", reason="probe", page=page), {}, None
        yield A, "GET", "/v1/deviations" + q(page=page), {}, None
    for date in DATES:
        for path in ("/v1/audit", "/v1/reports/sla"):
            yield A, "GET", path + q(**{"from": date}), {}, None
            yield A, "GET", path + q(to=date), {}, None
        yield A, "POST", "/v1/requests/4/handover", {}, {"channel": "phone", "recipient": "Sekar", "handed_at": date}
    yield A, "POST", "/v1/requests/4/handover", {}, {"channel": "phone", "recipient": "Sekar", "handed_at": "99999-01-01T00:00:00Z"}
    yield A, "GET", "/v1/audit" + q(**{"from": "0001-01-01", "to": "9999-12-31"}), {}, None
    yield A, "GET", "/v1/reports/sla" + q(**{"from": "2026-12-01", "to": "2026-01-01"}), {}, None
    for rid in ("0", "-1", "9223372036854775807", "9223372036854775808", "REQ-2026-000001%00", "REQ-%00", "REQ-" + "9" * 300, "%00"):
        yield A, "GET", f"/v1/requests/{rid}", {}, None
        yield A, "POST", f"/v1/requests/{rid}/execute", {}, None
    for doc in ("0", "-1", "9223372036854775807", "9223372036854775808", "%00"):
        yield A, "GET", f"/v1/requests/1/documents/{doc}", {}, None
    for dev in ("0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999", "%00", "1e3"):
        yield A, "POST", f"/v1/deviations/{dev}/explanation", {}, {"explanation": "probe"}
    for priority in ("URGENT", "%00", "x" * 300, "%C3%A9"):
        yield A, "PUT", f"/v1/standards/priorities/{priority}", {}, {"step6_minutes": 15}
    # Never a value in 1..10080: the probes must not change the standards they run against.
    for minutes in (1e30, -1, 0, 10081, "x", None, 1.5, 9223372036854775808, True):
        yield A, "PUT", "/v1/standards/priorities/normal", {}, {"step6_minutes": minutes}
    yield A, "PUT", "/v1/standards/priorities/normal", {}, b'{"step6_minutes": 1e400}'
    for user in ("a%00b", "a" * 65, "%C3%A9t%C3%A9", "..", "%2e%2e"):
        yield A, "GET", f"/v1/accounts/{user}" + q(reason="probe"), {}, None
        yield A, "POST", f"/v1/accounts/{user}/unlock", {}, None
        yield A, "POST", f"/v1/accounts/{user}/totp/reset", {}, {"reason": "probe"}
    # Codes of every shape JSON allows, and a recovery code's; a reset reason past 500 characters.
    for code in (123456, None, ["123456"], "１２３４５６", "12345６", "000000" * 1000, "k7mqx-h3d9p", "K7MQX H3D9P", "\u0000" * 6):
        yield None, "POST", "/v1/auth/login/totp", {}, {"challenge": "x" * 43, "code": code}
        yield A, "POST", "/v1/auth/step-up", {}, {"code": code}
    yield None, "POST", "/v1/auth/login/totp", {}, b'{"challenge": ' + b"[" * 10000 + b"]" * 10000 + b', "code": "1"}'
    yield A, "POST", "/v1/auth/totp/enrol", {}, {"x": "y" * 2000}
    yield A, "POST", "/v1/accounts/sekar.fuzz/totp/reset", {}, {"reason": "x" * 501}
    # JSON bodies: NUL / control characters / overlong text in every string field.
    account = {"user_id": "probe.user", "role": "helpdesk", "full_name": "Probe User", "nip": "196102251986031010",
               "email": "probe@example.go.id", "agency": "Dinas Probe"}
    request = {"kinds": ["reset_password"], "subject": {"user_id": "sekar.fuzz", "full_name": "Sekar", "nip": "196102251986031010",
               "email": "sekar@example.go.id", "agency": "Dinas"}, "requester_name": "Sekar", "requester_contact": "sekar@example.go.id",
               "channel": "hardcopy"}
    for value in (NUL, CTRL, "x" * 5000, "\ud800"):
        for field in ("user_id", "password"):
            yield None, "POST", "/v1/auth/login", {}, {**{"user_id": "fuzz.admin", "password": "probe probe probe"}, field: value}
        for field in ("current_password", "new_password"):
            yield "verif", "POST", "/v1/auth/password", {}, {**{"current_password": "wrong wrong wrong", "new_password": "probe probe probe 1"}, field: value}
        for field in account:
            yield A, "POST", "/v1/accounts", {}, {**account, field: value}
        for field in ("requester_name", "requester_contact", "subject_role", "channel", "priority"):
            yield "staf", "POST", "/v1/requests", {}, {**request, field: value}
        for field in request["subject"]:
            yield "staf", "POST", "/v1/requests", {}, {**request, "subject": {field: value}}
        yield "staf", "POST", "/v1/requests", {}, {**request, "kinds": [value]}
        yield A, "POST", "/v1/requests/3/validity", {}, {"valid": False, "reason": value}
        yield A, "POST", "/v1/requests/3/validity", {}, {"valid": True, "subject_user_id": value}
        yield A, "POST", "/v1/requests/3/validity", {}, {"valid": True, "subject_user_id": "sekar.fuzz", "acknowledgement": value}
        for field in ("channel", "recipient", "handed_at"):
            yield A, "POST", "/v1/requests/4/handover", {}, {**{"channel": "phone", "recipient": "Sekar"}, field: value}
        yield A, "POST", "/v1/deviations/1/explanation", {}, {"explanation": value}
        # The second factor: a login's code step (public), enrolment, step-up, an admin's reset.
        for field in ("challenge", "code"):
            yield None, "POST", "/v1/auth/login/totp", {}, {**{"challenge": "x" * 43, "code": "123456"}, field: value}
        for path in ("/v1/auth/totp/confirm", "/v1/auth/step-up"):
            yield A, "POST", path, {}, {"code": value}
        yield A, "POST", "/v1/accounts/sekar.fuzz/totp/reset", {}, {"reason": value}
    # Numbers and shapes JSON allows.
    yield "staf", "POST", "/v1/requests/1/completeness", {}, {"complete": 1e400}
    yield "staf", "POST", "/v1/requests/1/completeness", {}, b'{"complete": ' + b"[" * 10000 + b"]" * 10000 + b"}"
    yield "staf", "POST", "/v1/requests/1/completeness", {}, b"[" * 100000
    yield A, "POST", "/v1/accounts", {}, b'{"user_id": "\\ud800"}'
    # Steps without fields: a body larger than the 1 KiB they read.
    for step in ("supplement", "execute", "notify", "confirm-receipt", "archive"):
        yield A, "POST", f"/v1/requests/1/{step}", {}, {"x": "y" * 2000}
        yield A, "POST", f"/v1/requests/1/{step}", {}, b"{}" + b" " * 2000
    yield A, "POST", "/v1/archive/purge", {}, {"x": "y" * 2000}
    yield A, "POST", "/v1/archive/purge", {}, b"[" * 100000
    yield A, "POST", "/v1/requests/4/handover", {}, b'{"channel": "phone", "recipient": ' + b"[" * 10000 + b"]" * 10000 + b"}"
    # Provisioning files with NUL, control characters, a huge line.
    csv_head = b"user_id,role,full_name,nip,email,agency\n"
    for row in (b"probe.a,helpdesk,A\x00B,,a@example.go.id,Dinas\n", b"probe.b,helpdesk,A\x01B,,b@example.go.id,Dinas\n",
                b"probe.c,helpdesk," + b"x" * 100000 + b",,c@example.go.id,Dinas\n", b"\xff\xfe\n", b'"unterminated\n'):
        yield A, "POST", "/v1/provisioning/batches" + q(dry_run="true"), {"Content-Type": "text/csv"}, csv_head + row
    yield A, "POST", "/v1/provisioning/batches" + q(dry_run="true"), {"Content-Type": "application/x-ndjson"}, \
        b'{"user_id":"probe.d","role":"helpdesk","full_name":"A\\u0000B","email":"d@example.go.id","agency":"Dinas"}\n'
    yield A, "POST", "/v1/provisioning/batches" + q(dry_run="true"), {"Content-Type": "application/x-ndjson"}, b"[" * 100000 + b"\n"
    # multipart/form-data: bytes above 0x7F in a part's header name (trapped multipart-kit's parser),
    # truncated bodies, empty and odd boundaries.
    for boundary, body in ((b"zz", b"--zz\r\n\xff\xfe: a\r\n\r\nx\r\n--zz--\r\n"), (b"zz", b"--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"),
                           (b"zz", b"--zz"), (b"", b"--\r\n"), (b"z" * 200, b"--" + b"z" * 200 + b"--")):
        headers = {"Content-Type": "multipart/form-data; boundary=" + boundary.decode()}
        yield A, "POST", "/v1/provisioning/batches", headers, body
        yield "staf", "POST", "/v1/requests/1/documents", headers, body
    # Headers.
    yield None, "GET", "/v1/requests", {"Authorization": "Bearer " + "x" * 8000}, None
    yield None, "GET", "/v1/requests", {"Authorization": "Bearer \u00e9\u00e9"}, None
    for language in ("en;q=1e999", "en;q=nan", "en;q=-inf", ";;;,,,", "en;q=" + "9" * 400):
        yield None, "GET", "/v1/requests", {"Accept-Language": language}, None
    yield A, "GET", "/v1/accounts" + q(q="sekar"), {"X-Lookup-Reason": "\u00e9" * 3000}, None


def send(role, method, path, headers, body):
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = dict(headers)
    if role:
        headers["Authorization"] = "Bearer " + TOKENS[role]
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8", "surrogatepass")
        headers.setdefault("Content-Type", "application/json")
    encoded = {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in headers.items()}
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in encoded.items():
            connection.putheader(name, value)
        if data is not None:
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        return response.status, response.read()[:300].decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def alive():
    if SERVER_PID is None:
        return True
    try:
        os.kill(SERVER_PID, 0)
    except OSError:
        return False
    status, _ = send(None, "GET", "/healthz", {}, None)
    return status == 200


bad = []
count = 0
for role, method, path, headers, body in probes():
    if SKIP and SKIP.search(f"{method} {path}"):
        continue
    count += 1
    status, answer = send(role, method, path, headers, body)
    if status is None or status >= 500:
        shown = body if body is None or isinstance(body, bytes) else json.dumps(body)
        shown = repr(shown[:200]) + ("…" if shown and len(shown) > 200 else "") if shown else "-"
        bad.append(f"{status or 'no answer'} {method} {path[:200]} as {role or 'nobody'}\n      body: {shown}"
                   f"{' headers: ' + repr(headers)[:200] if headers else ''}\n      answer: {answer}")
        if not alive():
            bad.append("the server is not running any more; probes stopped here")
            break

for line in bad:
    print("fuzz-probes: " + line, file=sys.stderr)
print(f"fuzz-probes: {count} probes, {len(bad)} answered 5xx or not at all", file=sys.stderr)
sys.exit(1 if bad else 0)
