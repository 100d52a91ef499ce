"""Schemathesis hooks for scripts/fuzz (loaded through SCHEMATHESIS_HOOKS): serializers for the
raw-body media types of docs/openapi.yaml that Schemathesis does not know."""
import schemathesis

# A document upload's raw body: bytes as they are (the server sniffs the magic bytes).
schemathesis.serializer.alias("application/pdf", "application/octet-stream")
# A provisioning file in JSON Lines: text, like text/csv.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
