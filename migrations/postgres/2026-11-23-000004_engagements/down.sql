DROP TABLE events;
DROP TABLE engagement_transitions;
DROP TABLE engagement_sponsors;
DROP TABLE engagements;
