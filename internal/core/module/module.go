// Package module defines the contract every module follows and how the enabled ones
// are chosen.
package module

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/riverqueue/river"

	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/jobs"
)

// Tag names and describes a module's group of operations in the API document.
type Tag struct {
	Name        string
	Description string
}

// Deps are the core capabilities a module may use; the composition root builds them
// once and hands the same values to every module.
type Deps struct {
	// Store runs the generated queries, alone or in a transaction, with errors
	// translated into the db vocabulary.
	Store   *db.Store
	Cursors *db.CursorCodec
	Log     *slog.Logger
	// Passwords hashes and verifies passwords; one instance bounds the CPU and memory
	// all modules spend on hashing.
	Passwords *password.Hasher
	// Tokens issues and verifies access tokens.
	Tokens *authn.Tokens
	// Guard provides the authentication dependencies (RequireAuth, OptionalAuth).
	Guard *authn.Guard
	// RateLimits counts requests against budgets shared by every instance when Redis
	// is configured (e.g. for login throttling).
	RateLimits *ratelimit.Limiter
	// Jobs enqueues background jobs in a store transaction (see jobs.Enqueuer).
	Jobs *jobs.Enqueuer
	// Module returns the enabled module named name, nil when it is not enabled (e.g. a
	// nested module asks for its parent's Visibility).
	Module func(name string) Module
}

// Visibility is implemented by a module whose rows not every caller may read. A
// module nested under it checks the parent row of each request with it, so that a
// hidden parent hides its children too.
type Visibility interface {
	// Visible returns nil when p may read row id of the module, read through q; the
	// module's not-found error when the row is missing or hidden from p, as its own
	// routes answer; and the errors its routes answer otherwise (say, forbidden) or
	// the store's.
	Visible(ctx context.Context, q db.Querier, p authn.Principal, id int64) error
}

// Worker is implemented by a module that has background jobs: RegisterWorkers adds
// the workers of its job kinds to w. They run in `api serve` (WORKERS_ENABLED) and in
// `api worker`, where deps holds only Store and Log.
type Worker interface {
	RegisterWorkers(w *river.Workers, deps Deps) error
}

// Module is a self-contained feature: its routes, types, service, config and errors.
type Module interface {
	// Name is the module's name: its ENABLED_MODULES entry, its config section and its
	// URL segment (/api/v1/<name>).
	Name() string
	// Tag documents the module's operations.
	Tag() Tag
	// Config returns a pointer to the module's configuration, holding its defaults;
	// the loader fills it from keys <NAME>_<KEY>. Nil when the module has none.
	Config() any
	// Requires names the modules that must be enabled along with this one.
	Requires() []string
	// Routes builds the module's handlers from deps and returns its route table.
	Routes(deps Deps) ([]httpx.Route, error)
}

// Base implements the descriptive part of Module (Name, Tag, Config, Requires) for
// the modules that embed it; they add Routes.
type Base struct {
	tag      Tag
	cfg      any
	requires []string
}

// NewBase returns the Base of a module named name (its tag's name too) described by
// description, with configuration cfg (a pointer holding the defaults, or nil) and
// the modules it requires.
func NewBase(name, description string, cfg any, requires ...string) Base {
	return Base{tag: Tag{Name: name, Description: description}, cfg: cfg, requires: requires}
}

// Name implements Module.
func (b Base) Name() string { return b.tag.Name }

// Tag implements Module.
func (b Base) Tag() Tag { return b.tag }

// Config implements Module.
func (b Base) Config() any { return b.cfg }

// Requires implements Module.
func (b Base) Requires() []string { return b.requires }

// BasePath is where a module's routes are mounted.
func BasePath(m Module) string { return "/api/v1/" + m.Name() }

// Mounts splits m's routes by where they are mounted: its own under BasePath, nested
// ones under the resource they name (see httpx.Route.Nested), keyed by base path in
// the order first met. It fails naming a route nested under a module that is not
// in enabled.
func Mounts(m Module, routes []httpx.Route, enabled []Module) (bases []string, byBase map[string][]httpx.Route, err error) {
	byBase = map[string][]httpx.Route{}
	for _, rt := range routes {
		base := BasePath(m)
		if rt.Nested != "" {
			parent, _, _ := strings.Cut(rt.Nested, "/")
			if !slices.ContainsFunc(enabled, func(e Module) bool { return e.Name() == parent }) {
				return nil, nil, fmt.Errorf("route %s is nested under %s, but module %s is not enabled", rt.OperationID, rt.Nested, parent)
			}
			base = "/api/v1/" + strings.Trim(rt.Nested, "/")
		}
		if _, ok := byBase[base]; !ok {
			bases = append(bases, base)
		}
		byBase[base] = append(byBase[base], rt)
	}
	return bases, byBase, nil
}

// Select returns the modules of all named in enabled (all of them when enabled is
// empty), in registry order. It fails naming any unknown module, and any module whose
// requirement is not enabled.
func Select(all []Module, enabled []string) ([]Module, error) {
	if len(enabled) == 0 {
		return all, nil
	}
	known := map[string]bool{}
	for _, m := range all {
		known[m.Name()] = true
	}
	want := map[string]bool{}
	var unknown []string
	for _, name := range enabled {
		name = strings.TrimSpace(strings.ToLower(name))
		if !known[name] {
			unknown = append(unknown, name)
		}
		want[name] = true
	}
	if len(unknown) > 0 {
		names := make([]string, 0, len(all))
		for _, m := range all {
			names = append(names, m.Name())
		}
		return nil, fmt.Errorf("ENABLED_MODULES: unknown module %s (known: %s)",
			strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	var out []Module
	for _, m := range all {
		if !want[m.Name()] {
			continue
		}
		for _, r := range m.Requires() {
			if !want[r] {
				return nil, fmt.Errorf("ENABLED_MODULES: module %s requires module %s", m.Name(), r)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// Names returns the names of mods.
func Names(mods []Module) []string {
	out := make([]string, len(mods))
	for i, m := range mods {
		out[i] = m.Name()
	}
	return slices.Clip(out)
}
