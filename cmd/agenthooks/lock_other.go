//go:build !unix

package main

// lockSQLite does nothing where flock(2) does not exist: there, nothing stops
// a second serve on the same SQLite file.
func lockSQLite(path string) (release func() error, err error) {
	return func() error { return nil }, nil
}
