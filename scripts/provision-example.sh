#!/usr/bin/env bash
# How a new LPSE provisions its first accounts from a spreadsheet exported as "CSV UTF-8".
#
#   SPSE_OPERATOR=admin.ppe scripts/provision-example.sh docs/provisioning/sample-accounts.csv
#
# 1. validate the whole file against the database (nothing is written; every bad row is listed);
# 2. provision it, the temporary passwords going to a new file only the operator can read;
# 3. re-running is safe: rows already provisioned are reported `unchanged`, nothing is issued twice.
# The operator's password is asked without echo unless SPSE_OPERATOR_PASSWORD is set.
set -euo pipefail

FILE=${1:?usage: $0 accounts.csv}
CLI=${SPSE_CLI:-$(dirname "$0")/../.build/release/spse-accounts}
[[ -x $CLI ]] || CLI=$(dirname "$0")/../.build/debug/spse-accounts
OUT_DIR=${SPSE_CREDENTIALS_DIR:-$HOME/spse-credentials}
mkdir -p "$OUT_DIR" && chmod 700 "$OUT_DIR"
OUT="$OUT_DIR/$(basename "$FILE" .csv)-$(date +%Y%m%d-%H%M%S).csv"

if [[ -z ${SPSE_OPERATOR_PASSWORD:-} && -t 0 ]]; then
    read -r -s -p "Password for ${SPSE_OPERATOR:?set SPSE_OPERATOR to your user ID}: " SPSE_OPERATOR_PASSWORD && echo
    export SPSE_OPERATOR_PASSWORD
fi

echo "== checking $FILE"
if ! "$CLI" provision "$FILE" --dry-run; then
    status=$?
    echo "fix the rows above and run again (exit $status: 2 = bad rows, 6 = wrong operator password)" >&2
    exit "$status"
fi

echo "== provisioning"
"$CLI" provision "$FILE" --credentials-out "$OUT" --json > "$OUT_DIR/last-report.json"
python3 - "$OUT_DIR/last-report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print(f"batch {report.get('batch_id')}: {report['created']} created, {report['unchanged']} unchanged")
for row in report["rows"]:
    print(f"  line {row['line']:>4}  {row['user_id']:<24} {row['outcome']}")
PY
if [[ -f $OUT ]]; then
    echo "== temporary passwords in $OUT (mode 0600). Hand each one over in person or by the official letter;"
    echo "   every user must change it at first login, before it expires."
fi
