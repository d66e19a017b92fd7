DROP TABLE leader_interviews;
DROP TABLE outcome_measurements;
DROP TABLE outcomes;
DROP TABLE context_meetings;
