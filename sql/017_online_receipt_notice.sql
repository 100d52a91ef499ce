-- The public door's confirmation e-mail: an online filing queues one step-1 notice (the receipt,
-- never the tracking code) to the e-mail it gave, in the filing's own transaction, so it is
-- bounded by the filing budgets and sent by the outbox like every other notice.
ALTER TABLE outbox DROP CONSTRAINT outbox_step_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_step_check CHECK (step IN (1, 3, 6, 7, 8));
CREATE UNIQUE INDEX outbox_one_receipt_per_request ON outbox (request_id) WHERE step = 1;
