// Package modules is the registry: the one list of every module the binary has.
package modules

import (
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/modules/audit"
	"github.com/quarrydev/quarry/internal/modules/auth"
	"github.com/quarrydev/quarry/internal/modules/orders"
	"github.com/quarrydev/quarry/internal/modules/posts"
	"github.com/quarrydev/quarry/internal/modules/products"
	"github.com/quarrydev/quarry/internal/modules/users"
)

// All returns a new instance of every module, in mounting order.
func All() []module.Module {
	return []module.Module{
		auth.New(),
		users.New(),
		posts.New(),
		orders.New(),
		products.New(),
		audit.New(),
	}
}
