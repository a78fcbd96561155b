-- atlas:txmode none

-- Online steps: each statement runs on its own, outside a transaction block.
-- build index public.posts_author_id_status_created_at_id_idx without blocking writes
CREATE INDEX CONCURRENTLY posts_author_id_status_created_at_id_idx ON public.posts USING btree (author_id, status, created_at, id);
-- build index public.posts_author_id_status_id_idx without blocking writes
CREATE INDEX CONCURRENTLY posts_author_id_status_id_idx ON public.posts USING btree (author_id, status, id);
-- build index public.posts_status_created_at_id_idx without blocking writes
CREATE INDEX CONCURRENTLY posts_status_created_at_id_idx ON public.posts USING btree (status, created_at, id);
-- build index public.posts_status_id_idx without blocking writes
CREATE INDEX CONCURRENTLY posts_status_id_idx ON public.posts USING btree (status, id);
-- build index public.refresh_tokens_expires_at_idx without blocking writes
CREATE INDEX CONCURRENTLY refresh_tokens_expires_at_idx ON public.refresh_tokens USING btree (expires_at);
-- build index public.users_is_active_created_at_id_idx without blocking writes
CREATE INDEX CONCURRENTLY users_is_active_created_at_id_idx ON public.users USING btree (is_active, created_at, id);
-- build index public.users_is_active_id_idx without blocking writes
CREATE INDEX CONCURRENTLY users_is_active_id_idx ON public.users USING btree (is_active, id);
-- build index public.users_role_created_at_id_idx without blocking writes
CREATE INDEX CONCURRENTLY users_role_created_at_id_idx ON public.users USING btree (role, created_at, id);
-- build index public.users_role_id_idx without blocking writes
CREATE INDEX CONCURRENTLY users_role_id_idx ON public.users USING btree (role, id);
-- build index public.users_role_is_active_created_at_id_idx without blocking writes
CREATE INDEX CONCURRENTLY users_role_is_active_created_at_id_idx ON public.users USING btree (role, is_active, created_at, id);
-- build index public.users_role_is_active_id_idx without blocking writes
CREATE INDEX CONCURRENTLY users_role_is_active_id_idx ON public.users USING btree (role, is_active, id);
