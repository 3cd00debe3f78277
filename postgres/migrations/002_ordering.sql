-- Ordered delivery per conversation: the claim looks for an earlier pending
-- delivery of the same webhook and conversation.
CREATE INDEX deliveries_ordered ON deliveries(webhook_id, conversation_id, id) WHERE status = 'pending';
