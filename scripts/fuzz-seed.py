#!/usr/bin/env python3
"""Seeds a fresh spse-accounts server for scripts/fuzz, over its HTTP API only.

    fuzz-seed.py API_URL ADMIN_USER_ID ADMIN_TEMPORARY_PASSWORD TOKENS_OUT

Gives the bootstrap admin a real password, creates one account of every other role (each logs
in with its temporary password, changes it and logs in again), a victim account the spec's
examples name (`sekar.fuzz`: disabling, resetting or disclosing it harms no fuzzing session),
and four requests so that id-based routes have real rows (ids 1-4, REQ-<year>-000001..4):

  1  staf: submitted, both letters attached            (documents 1, 2; request of the examples)
  2  the helpdesk's own request, one letter attached   (so the helpdesk pass owns something)
  3  staf: complete (step 2 done)                      (step 5 is due)
  4  staf: approved for sekar.fuzz (steps 2 and 5)     (step 6 is due)

Writes {"admin": token, "staf": token, ...} to TOKENS_OUT (mode 0600). Stdlib only.
"""
import json
import os
import sys
import urllib.error
import urllib.request

API, ADMIN_ID, ADMIN_TEMP, OUT = sys.argv[1:5]
PDF = b"%PDF-1.7\n%%EOF\n"
AGENCY = "Dinas Komunikasi dan Informatika"

# Passwords that pass the policy: 12+ characters, not common, free of user IDs, names, agency.
PASSWORDS = {
    ADMIN_ID: "kopi jahe hangat sekali",
    "fuzz.staf": "nasi goreng kambing enak",
    "fuzz.helpdesk": "soto sokaraja pedas manis",
    "fuzz.auditor": "laporan tahunan rapi sekali",
    "fuzz.agency": "gunung slamet tinggi berkabut",
    "fuzz.verif": "mendoan hangat di pagi hari",
}
ACCOUNTS = [
    # user_id, role, full_name, nip, email
    ("fuzz.staf", "staf_administrasi", "Dewi Lestari", None, "dewi.lestari@example.go.id"),
    ("fuzz.helpdesk", "helpdesk", "Rudi Hartono", "198001012005011001", "rudi.hartono@example.go.id"),
    ("fuzz.auditor", "auditor", "Rina Kusuma", None, "rina.kusuma@example.go.id"),
    ("fuzz.agency", "admin_agency", "Bambang Wijaya", None, "bambang.wijaya@example.go.id"),
    ("fuzz.verif", "verifikator", "Siti Rahayu", None, "siti.rahayu@example.go.id"),
    ("sekar.fuzz", "helpdesk", "Sekar Ayu Wulandari", "196102251986031010", "sekar@example.go.id"),
]


def call(method, path, body=None, token=None, content_type="application/json", headers=None, expect=(200, 201, 204)):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(API + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode(errors="replace")
    if status not in expect:
        sys.exit(f"fuzz-seed: {method} {path} answered {status}: {text}")
    return json.loads(text) if text else None


def first_login(user_id, temporary):
    """Temporary password -> change-only session -> new password -> full session."""
    answer = call("POST", "/v1/auth/login", {"user_id": user_id, "password": temporary})
    assert answer["outcome"] == "password_change_required", answer
    call("POST", "/v1/auth/password", {"current_password": temporary, "new_password": PASSWORDS[user_id]}, answer["token"])
    answer = call("POST", "/v1/auth/login", {"user_id": user_id, "password": PASSWORDS[user_id]})
    assert answer["outcome"] == "ok", answer
    return answer["token"]


def attach(request_id, doc_type, token):
    return call("POST", f"/v1/requests/{request_id}/documents?type={doc_type}", PDF, token,
                content_type="application/pdf", headers={"X-File-Name": f"{doc_type}.pdf"})


def submit(token, subject, kinds=("reset_password",)):
    return call("POST", "/v1/requests", {
        "kinds": list(kinds), "subject": subject, "requester_name": "Sekar Ayu Wulandari",
        "requester_contact": "sekar@example.go.id", "channel": "hardcopy"}, token)


tokens = {"admin": first_login(ADMIN_ID, ADMIN_TEMP)}
for user_id, role, name, nip, email in ACCOUNTS:
    created = call("POST", "/v1/accounts", {"user_id": user_id, "role": role, "full_name": name, "nip": nip,
                                            "email": email, "agency": AGENCY}, tokens["admin"])
    if user_id in PASSWORDS:
        tokens[user_id.split(".")[1]] = first_login(user_id, created["temporary_password"])
staf, admin = tokens["staf"], tokens["admin"]

r1 = submit(staf, {"user_id": "sekar.fuzz", "full_name": "Sekar Ayu Wulandari"})
for doc_type in ("surat_permohonan", "sk_pengangkatan"):
    attach(r1["id"], doc_type, staf)
r2 = submit(tokens["helpdesk"], {"full_name": "Rudi Hartono"}, kinds=("user_id_info",))
attach(r2["id"], "surat_permohonan", tokens["helpdesk"])
r3 = submit(staf, {"nip": "196102251986031010"})
r4 = submit(staf, {"user_id": "sekar.fuzz"}, kinds=("reset_password", "user_id_info"))
for request in (r3, r4):
    for doc_type in ("surat_permohonan", "sk_pengangkatan"):
        attach(request["id"], doc_type, staf)
    call("POST", f"/v1/requests/{request['id']}/completeness", {"complete": True}, staf)
call("POST", f"/v1/requests/{r4['id']}/validity", {"valid": True, "subject_user_id": "sekar.fuzz"}, admin)
assert [r["id"] for r in (r1, r2, r3, r4)] == [1, 2, 3, 4], "the spec's examples expect request ids 1-4 on a fresh database"

fd = os.open(OUT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as out:
    json.dump(tokens, out)
print(f"fuzz-seed: {len(tokens)} sessions ({', '.join(sorted(tokens))}), requests {r1['number']}..{r4['number']}", file=sys.stderr)
