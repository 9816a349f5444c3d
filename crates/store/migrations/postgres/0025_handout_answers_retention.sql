-- A handout's diagnostic answers and household fingerprint are kept two years after the last
-- contact (the handout, or the booklet's latest redemption), then erased by `passnum jobs run`;
-- the commune and the priority publics stay (the figures count them). When they were erased:
ALTER TABLE handouts ADD COLUMN answers_erased_at BIGINT;
CREATE INDEX handouts_answers_kept ON handouts (handed_out_at) WHERE answers_erased_at IS NULL;
