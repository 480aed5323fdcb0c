-- The run-status check 20261128100000 replaced NOT VALID, validated here in a transaction
-- of its own: VALIDATE CONSTRAINT takes a SHARE UPDATE EXCLUSIVE lock, so the scan of
-- event_handlers_log does not stop the dispatchers writing to it meanwhile.
alter table feyxa.event_handlers_log validate constraint event_handlers_log_status_check;
