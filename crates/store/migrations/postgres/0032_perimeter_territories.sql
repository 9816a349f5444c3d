-- Perimeters by intercommunalité (EPCI, by SIREN) and by région as well as by commune and
-- département (issue 16): stored as the funder gave them, expanded with the embedded commune
-- data when a venue's commune is checked.
ALTER TABLE order_perimeter DROP CONSTRAINT order_perimeter_kind_check;
ALTER TABLE order_perimeter ADD CONSTRAINT order_perimeter_kind_check
    CHECK (kind IN ('commune', 'epci', 'departement', 'region'));
