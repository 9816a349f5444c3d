-- A correction gives back exactly what each party received for the cheque: the venue its net
-- (amount − fee, recovered from its next run) and the operator its fee; the funder gets the
-- whole amount back. Corrections recorded before this column recovered the whole amount from
-- the venue (fee 0): confirmed runs are never rewritten.
ALTER TABLE payment_corrections ADD COLUMN fee_cents INTEGER NOT NULL DEFAULT 0 CHECK (fee_cents >= 0);
