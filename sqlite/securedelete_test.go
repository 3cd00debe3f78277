package sqlite_test

import (
	"context"
	"testing"

	"github.com/agenthooks/agenthooks/internal/testdb"
)

// Every connection, writer and readers alike, runs with secure_delete on, so a
// deleted account's rows (not only re-encrypted secrets) are zeroed in the file
// rather than left in free pages.
func TestSecureDeleteEveryConnection(t *testing.T) {
	t.Parallel()
	s := open(t, testdb.SQLitePath(t))
	w, r, err := s.Pragma(context.Background(), "secure_delete")
	if err != nil {
		t.Fatal(err)
	}
	if w != "1" || r != "1" {
		t.Errorf("secure_delete: write connection %s, read connection %s; want 1 and 1", w, r)
	}
}
