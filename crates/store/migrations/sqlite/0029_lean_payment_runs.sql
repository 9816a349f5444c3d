-- Payment runs at national scale (issue 18; see the PostgreSQL migration of the same number):
-- a cheque is paid at most once, ever, because it has at most one run item that is not
-- cancelled (items are cancelled only with their draft run). This replaces the `payouts`
-- table, whose rows repeated the items of confirmed runs. (SQLite keeps the run items' foreign
-- keys: it checks them in the same process, at a fraction of PostgreSQL's cost.)
CREATE UNIQUE INDEX payment_items_cheque_once ON payment_run_items (cheque_id) WHERE cancelled = 0;
DROP TABLE payouts;
