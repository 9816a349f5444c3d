-- One index instead of two on the booklet side of redemptions: the unique "one cheque per
-- booklet per workshop" now leads with the booklet, so it also finds a booklet's workshops
-- (the funder's "first workshop" figure) and `redemptions_booklet` goes. Each redemption for a
-- workshop wrote both; the scan for a workshop is the hot path.
DROP INDEX redemptions_booklet;
DROP INDEX redemptions_one_per_workshop;
CREATE UNIQUE INDEX redemptions_one_per_workshop ON redemptions (booklet_id, workshop_id)
    WHERE workshop_id IS NOT NULL AND rolled_back_at IS NULL;
