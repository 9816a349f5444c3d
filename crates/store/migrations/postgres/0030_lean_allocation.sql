-- Allocation at national scale (issue 18): sharing 100,000 booklets rewrites 100,000 booklet
-- rows, and each rewrite checked the foreign key to the structure (a lookup and a row lock in
-- `distributors` per booklet, about a third of the time). The allocation and every transfer
-- check in their own transaction that each structure exists, and structures are never deleted,
-- so PostgreSQL no longer repeats that check per booklet. (SQLite keeps it: its checks run in
-- the same process, at a fraction of the cost.)
ALTER TABLE booklets DROP CONSTRAINT booklets_distributor_id_fkey;
-- Room on each page for a row's next version: allocation, handout and the usage rollups of a
-- scan rewrite a booklet row, and a new version written on the same page costs less (and the
-- scans' rollups, which touch no indexed column, become heap-only updates). Applies to pages
-- written from now on (`VACUUM FULL booklets` in a maintenance window for existing booklets).
ALTER TABLE booklets SET (fillfactor = 50);
