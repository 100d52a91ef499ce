-- A request's notices by request: every step now reads whether its step-8 notice is queued, and
-- the request page and the archive list them. Without this each read scanned the whole outbox,
-- so steps grew slower as notices piled up (spse-bench gate: 73 → 50 requests/s over 3,000).
CREATE INDEX outbox_request ON outbox (request_id, step);
