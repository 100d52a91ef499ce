#!/usr/bin/env bash
# The whole flow of README "Try it", as one script: run it against a fresh `scripts/run`.
# Needs curl and python3 (for reading JSON). Stops at the first unexpected answer.
set -euo pipefail
cd "$(dirname "$0")/.."
API=${API:-http://127.0.0.1:8080}
export DATABASE_URL=${DATABASE_URL:-"postgresql:///spse?host=$PWD/.data/pg&port=5432&user=postgres"}
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
# code KEY: the 6 digits an authenticator app shows now for a base32 key (RFC 6238)
code() { python3 -c "import base64,hmac,struct,time,sys; k=base64.b32decode(sys.argv[1]+'='*(-len(sys.argv[1])%8)); m=hmac.new(k,struct.pack('>Q',int(time.time()//30)),'sha1').digest(); o=m[-1]&15; print('%06d'%((struct.unpack('>I',m[o:o+4])[0]&0x7fffffff)%1000000))" "$1"; }
# post PATH [JSON] [TOKEN]
post() {
  local auth=()
  if [ -n "${3:-}" ]; then auth=(-H "Authorization: Bearer $3"); fi
  curl -sf "$API$1" "${auth[@]}" -H 'Content-Type: application/json' -d "${2:-"{}"}"
}

# 1. The first admin_ppe (once, on an empty service), first login, forced change, then the
#    authenticator operators must enrol (the key goes into an app; here `code` plays the app).
ADMIN_TEMP=$(.build/release/spse-accounts bootstrap-admin --user-id admin.ppe --name "Budi Santoso" \
  --email budi@purbalinggakab.go.id --agency "LPSE Kabupaten Purbalingga" --json | json '["temporary_password"]')
ADMIN=$(post /v1/auth/login "{\"user_id\":\"admin.ppe\",\"password\":\"$ADMIN_TEMP\"}" | json '["token"]')
post /v1/auth/password "{\"current_password\":\"$ADMIN_TEMP\",\"new_password\":\"kopi jahe hangat sekali\"}" "$ADMIN"
ADMIN_KEY=$(post /v1/auth/totp/enrol '{}' "$ADMIN" | json '["secret"]')
post /v1/auth/totp/confirm "{\"code\":\"$(code "$ADMIN_KEY")\"}" "$ADMIN" | json '["recovery_codes"][0]'  # keep all ten

# 2. A Staf Administrasi and a helpdesk account, each with a first temporary password.
STAF_TEMP=$(post /v1/accounts '{"user_id":"staf.adm","role":"staf_administrasi","full_name":"Dewi Lestari","email":"dewi@purbalinggakab.go.id","agency":"LPSE Kabupaten Purbalingga"}' "$ADMIN" | json '["temporary_password"]')
post /v1/accounts '{"user_id":"helpdesk01","role":"helpdesk","full_name":"Sekar Ayu Wulandari","nip":"196102251986031010","email":"sekar@purbalinggakab.go.id","agency":"Dinas Komunikasi dan Informatika"}' "$ADMIN" >/dev/null
STAF=$(post /v1/auth/login "{\"user_id\":\"staf.adm\",\"password\":\"$STAF_TEMP\"}" | json '["token"]')
post /v1/auth/password "{\"current_password\":\"$STAF_TEMP\",\"new_password\":\"nasi goreng kambing enak\"}" "$STAF"
STAF_KEY=$(post /v1/auth/totp/enrol '{}' "$STAF" | json '["secret"]')
post /v1/auth/totp/confirm "{\"code\":\"$(code "$STAF_KEY")\"}" "$STAF" >/dev/null

# 3. SOP 004: the helpdesk forgot the password. Step 1 with both documents, 2, 5, 6, 8.
REQ=$(post /v1/requests '{"kinds":["reset_password"],"subject":{"full_name":"Sekar Ayu Wulandari","nip":"196102251986031010"},"requester_name":"Sekar Ayu Wulandari","requester_contact":"sekar@purbalinggakab.go.id","channel":"hardcopy"}' "$STAF" | json '["id"]')
printf '%%PDF-1.7\n%%%%EOF\n' > /tmp/surat.pdf
for TYPE in surat_permohonan sk_pengangkatan; do
  curl -sf "$API/v1/requests/$REQ/documents?type=$TYPE" -H "Authorization: Bearer $STAF" \
    -H 'Content-Type: application/pdf' -H "X-File-Name: $TYPE.pdf" --data-binary @/tmp/surat.pdf >/dev/null
done
post "/v1/requests/$REQ/completeness" '{"complete":true}' "$STAF" >/dev/null
post "/v1/requests/$REQ/validity" '{"valid":true,"subject_user_id":"helpdesk01"}' "$ADMIN" >/dev/null
# Step 6 needs a second factor from the last 5 minutes (the enrolment above counts; later: POST /v1/auth/step-up).
TEMP=$(post "/v1/requests/$REQ/execute" '{}' "$ADMIN" | json '["temporary_password"]')
echo "temporary password for helpdesk01 (tell them by phone): $TEMP"
post "/v1/requests/$REQ/notify" '{}' "$ADMIN" >/dev/null
post "/v1/requests/$REQ/handover" '{"channel":"phone","recipient":"Sekar Ayu Wulandari"}' "$ADMIN" >/dev/null  # step 8 ends

# 4. The helpdesk logs in with it, must change it, then logs in normally; step 9 archives.
HD=$(post /v1/auth/login "{\"user_id\":\"helpdesk01\",\"password\":\"$TEMP\"}" | json '["token"]')
post /v1/auth/password "{\"current_password\":\"$TEMP\",\"new_password\":\"soto sokaraja pedas\"}" "$HD"
post /v1/auth/login '{"user_id":"helpdesk01","password":"soto sokaraja pedas"}' | json '["outcome"]'
post "/v1/requests/$REQ/archive" '{}' "$STAF" | json '["request"]["state"]'

# 5. Reports: the SLA per step and actor, and the audit chain.
curl -sf "$API/v1/reports/sla?format=csv" -H "Authorization: Bearer $ADMIN"
curl -sf "$API/v1/audit/verify" -H "Authorization: Bearer $ADMIN"; echo
