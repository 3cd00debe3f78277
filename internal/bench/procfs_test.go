package bench

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/agenthooks/agenthooks/internal/testdb"
)

// A child's CPU time moves into its parent's reaped time when the parent
// waits for it.
func TestProcTimesReaped(t *testing.T) {
	t.Parallel()
	_, before := procTimes(os.Getpid())
	// Shell loops that burn CPU, until the children have used a few of
	// the 10 ms ticks /proc counts in.
	var own time.Duration
	for own < 50*time.Millisecond {
		cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done")
		if err := cmd.Run(); err != nil {
			t.Skipf("no sh to burn CPU with: %v", err)
		}
		own += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if _, after := procTimes(os.Getpid()); after <= before {
		t.Errorf("reaped time %v then %v after children that used %v", before, after, own)
	}
}

// The PostgreSQL server's CPU time must not drop when a backend exits: the
// bench measures it around phases while connections come and go (its own
// and those of anything else using the server, such as other packages'
// tests in CI).
func TestPostgresCPUKeepsExitedBackends(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	if postgresCPU() == 0 {
		t.Skip("the PostgreSQL server's processes are not readable here (not on this machine)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	// Burn at least a few ticks in that backend.
	for procCPU(pid) < 50*time.Millisecond {
		if _, err := conn.ExecContext(ctx, "SELECT count(*) FROM generate_series(1, 500000)"); err != nil {
			t.Fatal(err)
		}
	}
	before := postgresCPU()
	_ = conn.Close()
	_ = db.Close() // closes the connection: its backend exits
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend %d still there 30 s after its connection closed", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if after := postgresCPU(); after < before {
		t.Errorf("the server's CPU time dropped from %v to %v when backend %d exited", before, after, pid)
	}
}
