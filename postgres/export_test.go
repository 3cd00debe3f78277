package postgres

// PoolSize is the store's pool size, for the tests of package postgres_test.
func PoolSize(s *Store) int { return s.db.Stats().MaxOpenConnections }

// ClaimSQL is the dialect's claim statement, for the tests of package
// postgres_test.
var ClaimSQL = dialect.ClaimSQL

// ClaimPlan is the dialect's statement run before the claim.
var ClaimPlan = dialect.ClaimPlan
