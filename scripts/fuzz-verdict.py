#!/usr/bin/env python3
"""Reads the Schemathesis NDJSON reports of scripts/fuzz and judges the run.

    fuzz-verdict.py REPORT_DIR

Exit 1 when any request got a 5xx or no response at all (the server crashed or dropped the
connection), listing each distinct one (operation, status, request) once. Every other failed
check is summed up per check and operation as a warning: where code and contract disagree.
"""
import base64
import collections
import glob
import json
import os
import sys

report_dir = sys.argv[1]
server_errors = {}  # (label, status, code/body head) -> first request
transport_errors = {}
warnings = collections.Counter()
tool_errors = collections.Counter()


def decode(content):
    if not content:
        return ""
    raw = base64.b64decode(content["$base64"]) if isinstance(content, dict) and "$base64" in content else str(content).encode()
    return raw.decode("utf-8", errors="replace")


def describe(request):
    body = request.get("body")
    text = f"{request.get('method')} {request.get('uri')}"
    if body:
        text += f"\n      body: {decode(body)[:300]!r}"
    return text


for path in sorted(glob.glob(os.path.join(report_dir, "*.ndjson"))):
    run = os.path.splitext(os.path.basename(path))[0]
    with open(path, encoding="utf-8") as events:
        for line in events:
            event = json.loads(line)
            if "NonFatalError" in event:
                error = event["NonFatalError"]
                kind = error["value"].get("type", "?")
                message = error["value"].get("message", "")
                if any(word in (kind + message).lower() for word in ("connection", "remote end closed", "timeout", "timed out", "reset by peer")):
                    transport_errors.setdefault((run, error.get("label"), kind), message[:300])
                else:
                    tool_errors[f"{error.get('label')}: {kind}"] += 1
                continue
            if "ScenarioFinished" not in event:
                continue
            recorder = event["ScenarioFinished"]["recorder"]
            label = recorder["label"]
            for case_id, interaction in recorder.get("interactions", {}).items():
                request, response = interaction.get("request", {}), interaction.get("response")
                if response is None:
                    transport_errors.setdefault((run, label, "no response"), describe(request))
                    continue
                status = response.get("status_code", 0)
                if status >= 500:
                    body = decode(response.get("content"))
                    try:
                        code = json.loads(body).get("code", "")
                    except (ValueError, AttributeError):
                        code = body[:80]
                    key = (label, status, code, request.get("method"), request.get("uri", "").split("?")[0])
                    server_errors.setdefault(key, (run, describe(request), body[:300]))
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check.get("status") == "failure" and check["name"] != "not_a_server_error":
                        warnings[(check["name"], label)] += 1

if warnings:
    print("fuzz: checks that failed (contract and code disagree; not fatal):", file=sys.stderr)
    for (check, label), count in sorted(warnings.items()):
        print(f"  {check:32} {label}  ×{count}", file=sys.stderr)
if tool_errors:
    print("fuzz: Schemathesis could not generate or send some cases (not fatal):", file=sys.stderr)
    for what, count in sorted(tool_errors.items()):
        print(f"  {what}  ×{count}", file=sys.stderr)
for (run, label, kind), what in sorted(transport_errors.items()):
    print(f"fuzz: NO RESPONSE [{run}] {label}: {kind}\n      {what}", file=sys.stderr)
for (label, status, code, _, _), (run, request, body) in sorted(server_errors.items()):
    print(f"fuzz: SERVER ERROR {status} {code} [{run}] {label}\n      {request}\n      answer: {body}", file=sys.stderr)
if server_errors or transport_errors:
    print(f"fuzz: {len(server_errors)} distinct server error(s), {len(transport_errors)} request(s) without an answer", file=sys.stderr)
    sys.exit(1)
