-- Payment runs at national scale (issue 18): a run of a million cheques still wrote each cheque
-- twice (its run item, then its new state at confirmation) and checked two foreign keys per
-- item, each locking the referenced row. Measured on a million items (BENCHMARKS.md): the two
-- keys took 7.5 s of the 11.3 s the items' insert took; the cheques' update 10 s of confirming.
--
-- 1. "Paid" is no longer written on the cheque. A cheque is paid when its run item that is not
--    cancelled belongs to a confirmed run (`payment_items_cheque_once` finds it); passnum reads
--    it from there. The cheques paid before this version are set back to "redeemed": their
--    items say they are paid.
UPDATE cheques SET state = 'redeemed' WHERE state = 'paid';

-- 2. Two indexes fewer to write per item. A cheque has at most one live item
--    (`payment_items_cheque_once`), so its redemption does too: `payment_items_once` repeated it.
--    The primary key becomes the venue index it duplicated: (run, venue, redemption) is unique
--    because (redemption) is unique among a run's items.
DROP INDEX payment_items_once;
ALTER TABLE payment_run_items DROP CONSTRAINT payment_run_items_pkey;
DROP INDEX payment_items_venue;
ALTER TABLE payment_run_items ADD CONSTRAINT payment_run_items_pkey PRIMARY KEY (run_id, venue_id, redemption_id);

-- 3. The items stay tied to their run and to their cheque, checked once per statement over all
--    the rows it inserted instead of once per row: every item names a run that exists and a
--    redemption of its own cheque (redemptions are never deleted and keep their key to the
--    cheque, so the cheque stays too). SQLSTATE 23503, as a foreign key would answer. Items are
--    inserted in the transaction that creates their run, so no other can delete it meanwhile;
--    a run that has items cannot be deleted at all, and an item's keys never change.
ALTER TABLE payment_run_items
    DROP CONSTRAINT payment_run_items_run_id_fkey,
    DROP CONSTRAINT payment_run_items_cheque_id_fkey;
CREATE FUNCTION payment_items_are_tied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_items n WHERE NOT EXISTS
                  (SELECT 1 FROM redemptions r WHERE r.id = n.redemption_id AND r.cheque_id = n.cheque_id))
       OR EXISTS (SELECT 1 FROM new_items n WHERE NOT EXISTS
                  (SELECT 1 FROM payment_runs p WHERE p.id = n.run_id)) THEN
        RAISE foreign_key_violation USING MESSAGE =
            'élément de virement sans son virement, ou sans un encaissement de son chèque';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER payment_items_are_tied AFTER INSERT ON payment_run_items
    REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION payment_items_are_tied();
CREATE FUNCTION payment_items_keys_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING MESSAGE = 'un élément de virement ne change pas de virement ni de chèque';
END;
$$;
CREATE TRIGGER payment_items_keys_fixed BEFORE UPDATE OF run_id, redemption_id, cheque_id ON payment_run_items
    FOR EACH ROW EXECUTE FUNCTION payment_items_keys_fixed();
CREATE FUNCTION payment_runs_with_items_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM payment_run_items i WHERE i.run_id = OLD.id) THEN
        RAISE foreign_key_violation USING MESSAGE = 'un virement qui a des éléments ne se supprime pas';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER payment_runs_with_items_kept BEFORE DELETE ON payment_runs
    FOR EACH ROW EXECUTE FUNCTION payment_runs_with_items_kept();
