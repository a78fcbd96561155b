// Package migrations embeds the migration files, so the binary can tell whether the
// database it serves is up to date and apply what is pending.
package migrations

import "embed"

// FS holds every migration file and atlas.sum.
//
//go:embed *.sql atlas.sum
var FS embed.FS
