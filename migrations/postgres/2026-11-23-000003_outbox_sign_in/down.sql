DROP TABLE sign_in_tokens;
DROP TABLE outbox;
