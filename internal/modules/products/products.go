package products

// customize sets the module's own rules (see Rules): who may read or change which
// rows, how lists are narrowed, extra routes. It is written once by `api gen module`
// and never regenerated; the generated code calls it from New.
func (m *Module) customize() {}
