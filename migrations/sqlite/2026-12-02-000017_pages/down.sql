DROP TABLE web_sessions;
DROP TABLE page_links;
