DROP TABLE themes;
DROP TABLE rater_invitations;
DROP TABLE rater_feedback;
DROP TABLE rater_interviews;
DROP TABLE raters;
