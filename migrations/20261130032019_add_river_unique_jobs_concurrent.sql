-- atlas:txmode none

-- Online steps: each statement runs on its own, outside a transaction block.
-- build index public.river_job_unique_idx without blocking writes
-- atlas:nolint MF101 river_job is created by 20261130032005_add_river.sql in the same release, so it holds no job and no duplicate unique_key
CREATE UNIQUE INDEX CONCURRENTLY river_job_unique_idx ON public.river_job USING btree (unique_key) WHERE ((unique_key IS NOT NULL) AND (unique_states IS NOT NULL) AND river_job_state_in_bitmask(unique_states, state));
