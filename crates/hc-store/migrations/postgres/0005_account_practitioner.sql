-- An account can be a practitioner's (issue #6): a family doctor's account then sees only the
-- family-doctor teams the practitioner belongs to, and their worklists.
ALTER TABLE users ADD COLUMN practitioner_id BIGINT REFERENCES practitioners (id);
