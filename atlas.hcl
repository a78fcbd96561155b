# Atlas CLI configuration for this repository. `api migrate …` does the same work with
# the Atlas Go library, so a team can use either tool on the same files and database:
# migrations are Atlas-format files with an atlas.sum, and applied versions are kept in
# atlas_schema_revisions.atlas_schema_revisions, the Atlas CLI's own table.
#
#   atlas migrate diff add_thing --env local
#   atlas migrate apply --env prod

variable "database_url" {
  type    = string
  default = getenv("DATABASE_URL")
}

variable "dev_database_url" {
  type    = string
  default = getenv("DEV_DATABASE_URL")
}

locals {
  # The declarative schema, in dependency order: the Atlas CLI executes these files on
  # the dev database one after another (`api migrate diff` resolves the order itself).
  # `api migrate diff` also plans views, functions, triggers and extensions and makes
  # changes to existing tables online-safe; the community Atlas CLI does neither.
  schema = [
    "file://schema/users.sql",
    "file://schema/posts.sql",
    "file://schema/auth.sql",
    "file://schema/audit.sql",
    "file://schema/river.sql",
  ]
  migrations = "file://migrations"
}

# A developer machine: PostgreSQL on 127.0.0.1:5432, a scratch database for planning.
env "local" {
  src = local.schema
  url = var.database_url != "" ? var.database_url : "postgres://postgres@127.0.0.1:5432/quarry?sslmode=disable"
  dev = var.dev_database_url != "" ? var.dev_database_url : "postgres://postgres@127.0.0.1:5432/quarry_dev?sslmode=disable"
  migration {
    dir              = local.migrations
    revisions_schema = "atlas_schema_revisions"
  }
}

# Continuous integration: both databases come from the environment.
env "ci" {
  src = local.schema
  url = var.database_url
  dev = var.dev_database_url
  migration {
    dir              = local.migrations
    revisions_schema = "atlas_schema_revisions"
  }
}

# Production: only applies reviewed migrations; never plans.
env "prod" {
  url = var.database_url
  migration {
    dir              = local.migrations
    revisions_schema = "atlas_schema_revisions"
  }
}
