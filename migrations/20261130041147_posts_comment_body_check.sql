-- set comment to table: "posts"
COMMENT ON TABLE "posts" IS 'Posts written by users: drafts and published articles.';
-- add constraint posts_body_check without scanning the table (NOT VALID)
ALTER TABLE public.posts ADD CONSTRAINT posts_body_check CHECK ((char_length(body) <= 100000)) NOT VALID;
