package auth

import "github.com/quarrydev/quarry/internal/core/password"

// Hasher returns the password hasher the module's routes were built with, so tests
// can check the hashing bound (PeakInFlight against Capacity).
func (m *Module) Hasher() *password.Hasher { return m.hasher }
