package postgres

// PoolSize is the store's pool size, for the tests of package postgres_test.
func PoolSize(s *Store) int { return s.db.Stats().MaxOpenConnections }
