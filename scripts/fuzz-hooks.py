"""Schemathesis hooks for scripts/fuzz (loaded through SCHEMATHESIS_HOOKS).

Generators for what docs/openapi.yaml names but a JSON Schema cannot spell out, so that a
"positive" case is valid for the service and not only for the schema:

- format `nip`: NIPs whose birth date, appointment month (after the 18th birthday), sex digit and
  sequence are real (the pattern only says 18 digits);
- the raw document bodies (application/pdf, image/jpeg, image/png) and the multipart `file` part:
  bytes whose magic bytes agree with the declared media type (the server sniffs them);
- provisioning files (text/csv, application/x-ndjson): well-formed files of 1-3 valid rows with
  fresh user IDs and e-mails, each derived from one token so that a repeated token gives an
  identical row (`unchanged`), never a conflict;
- cross-field rules, in positive cases only: a period's `from` not after its `to` (or after now
  when `to` is absent), a provisioning form's `format` part that agrees with its file part, and a
  raw document upload that names its file (X-File-Name or file_name, either will do), and a
  public filing whose fields and documents pass the form's own checks.

Negative cases are left as generated.
"""
import datetime
import json

import schemathesis
from hypothesis import strategies as st


# --- NIP -----------------------------------------------------------------------------------------
@st.composite
def nips(draw):
    birth = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2082, 12, 31)))
    first = (birth.year + 18) * 12 + birth.month - 1  # months since year 0, the 18th birthday's month
    appointed = draw(st.integers(min_value=first, max_value=2100 * 12 + 11))
    year, month = divmod(appointed, 12)
    sex = draw(st.sampled_from("12"))
    sequence = draw(st.integers(min_value=1, max_value=999))
    return f"{birth:%Y%m%d}{year:04d}{month + 1:02d}{sex}{sequence:03d}"


schemathesis.openapi.format("nip", nips())


# --- Documents -----------------------------------------------------------------------------------
def _file(magic, tail=b""):
    return st.binary(min_size=0, max_size=256).map(lambda middle: magic + middle + tail)


PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
schemathesis.openapi.media_type("application/pdf", _file(b"%PDF-1.7\n", b"\n%%EOF\n"))
schemathesis.openapi.media_type("image/jpeg", _file(b"\xff\xd8\xff\xe0", b"\xff\xd9"))
schemathesis.openapi.media_type("image/png", _file(b"\x89PNG\r\n\x1a\n"))


# --- Provisioning files --------------------------------------------------------------------------
ROLES = ["helpdesk", "admin_agency", "verifikator", "auditor"]
NAMES = ["Dewi Anggraini", "Agus Prasetyo", "Sri Wahyuni", "Joko Susilo", "Ayu Lestari", "Hendra Gunawan"]
AGENCIES = ["Dinas Kesehatan", "BPKAD", "Dinas Pendidikan dan Kebudayaan"]


def _row(token):
    # Every field from the token: the same token is the same row, so re-sending it is `unchanged`.
    return {
        "user_id": f"batch.{token:x}",
        "role": ROLES[token % len(ROLES)],
        "full_name": NAMES[token % len(NAMES)],
        "nip": "",
        "email": f"batch.{token:x}@example.go.id",
        "agency": AGENCIES[token % len(AGENCIES)],
    }


_tokens = st.lists(st.integers(min_value=1, max_value=2**48), min_size=1, max_size=3, unique=True)


def _csv(tokens):
    lines = ["user_id,role,full_name,nip,email,agency"]
    lines += [",".join(_row(token).values()) for token in tokens]
    return ("\n".join(lines) + "\n").encode()


def _jsonl(tokens):
    return "".join(json.dumps(_row(token)) + "\n" for token in tokens).encode()


schemathesis.openapi.media_type("text/csv", _tokens.map(_csv))
schemathesis.openapi.media_type("application/x-ndjson", _tokens.map(_jsonl))


# --- Cross-field rules of positive cases ---------------------------------------------------------
def _instant(text):
    if not isinstance(text, str):
        return None
    try:
        if len(text) == 10:
            value = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)
        else:
            value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def _is_positive(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def map_case(context, case):
    if not _is_positive(case):
        return case
    label = case.operation.label
    if label in ("GET /v1/reports/sla", "GET /v1/audit") and case.query:
        start, end = _instant(case.query.get("from")), _instant(case.query.get("to"))
        if start and end and start > end:
            case.query["from"], case.query["to"] = case.query["to"], case.query["from"]
        elif start and end is None and "to" not in case.query and start > datetime.datetime.now(datetime.timezone.utc):
            case.query["to"] = case.query["from"]
    if label == "POST /v1/provisioning/batches":
        types = case.multipart_content_types or {}
        if isinstance(case.body, dict) and "format" in case.body:
            case.body["format"] = "jsonl" if types.get("file") == "application/x-ndjson" else "csv"
    if label == "POST /v1/public/requests" and isinstance(case.body, dict):
        # What the form's rules ask beyond the schema (a name, an e-mail, an agency, a kind,
        # documents whose bytes are what they claim); the role is left as generated.
        case.body.update({"kinds": "reset_password", "full_name": "Sekar Ayu Wulandari", "nip": "", "user_id": "",
                          "email": "sekar.publik@example.go.id", "phone": "", "agency": "Dinas Kesehatan",
                          "surat_permohonan": PDF, "sk_pengangkatan": PDF})
    if label == "POST /v1/requests/{id}/documents" and not isinstance(case.body, dict):
        # A raw body needs a file name: the X-File-Name header or the file_name parameter.
        headers = {name.lower() for name in (case.headers or {})}
        if "x-file-name" not in headers and "file_name" not in (case.query or {}):
            case.query = {**(case.query or {}), "file_name": "surat.pdf"}
    return case
