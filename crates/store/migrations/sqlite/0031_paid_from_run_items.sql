-- Payment runs at national scale (issue 18; see the PostgreSQL migration of the same number).
-- 1. A cheque is paid when its run item that is not cancelled belongs to a confirmed run.
--    "Paid" is read from there and no longer written on the cheque; the cheques paid before
--    this version are set back to "redeemed", their items say they are paid.
UPDATE cheques SET state = 'redeemed' WHERE state = 'paid';
-- 2. A cheque has at most one live item (`payment_items_cheque_once`), so its redemption does
--    too: `payment_items_once` repeated it. (SQLite keeps the items' foreign keys: it checks
--    them in the same process, at a fraction of PostgreSQL's cost.)
DROP INDEX payment_items_once;
