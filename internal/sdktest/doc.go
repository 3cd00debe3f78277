// Package sdktest holds the tests of the receivers' SDK (the module in
// webhook/) that need more than the standard library: the SQLDeduper on real
// SQLite and PostgreSQL databases, the signatures cross-checked with the
// Standard Webhooks reference library, and a receiver built outside this
// repository against the SDK. They live in the server's module so that the
// SDK's own go.mod requires nothing: a receiver's go.sum holds nothing of the
// server. It has no code of its own.
package sdktest
