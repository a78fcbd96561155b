-- atlas:txmode none

-- Online steps: each statement runs on its own, outside a transaction block.
-- validate posts_body_check (scans without blocking writes)
ALTER TABLE public.posts VALIDATE CONSTRAINT posts_body_check;
