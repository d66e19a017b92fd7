DROP TABLE group_action_items;
DROP TABLE group_outcomes;
DROP TABLE group_attendance;
DROP TABLE group_sessions;
DROP TABLE group_members;
DROP TABLE coaching_groups;
