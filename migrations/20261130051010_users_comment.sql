-- set comment to table: "users"
COMMENT ON TABLE "users" IS 'User accounts: profiles, roles and activation (sign-up is in auth).';
