-- The account a funder is refunded to when a cheque it paid for is corrected (a cheque paid
-- wrongly): recorded by the operator from the funder's convention, with its history. The run
-- that recovers a correction pays the refund in the same SEPA file as the venues.
CREATE TABLE funder_bank_accounts (
    id INTEGER PRIMARY KEY,
    funder_id INTEGER NOT NULL REFERENCES funders (id),
    iban TEXT NOT NULL CHECK (length(iban) BETWEEN 15 AND 34),
    bic TEXT NOT NULL CHECK (length(bic) IN (8, 11)),
    holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 70),
    created_at INTEGER NOT NULL,
    superseded_at INTEGER
);
CREATE UNIQUE INDEX funder_bank_current ON funder_bank_accounts (funder_id) WHERE superseded_at IS NULL;
