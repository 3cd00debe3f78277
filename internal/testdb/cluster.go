package testdb

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a throwaway PostgreSQL server of one test: its own data
// directory and port, so that the test may stop and start it without
// touching the shared server. Make one with NewCluster.
type Cluster struct {
	t      testing.TB
	bin    string // the directory of initdb and pg_ctl
	dir    string // data directory
	port   int
	asUser string // run the server as this user (PostgreSQL refuses root); "" for the current one
}

// NewCluster initialises a cluster in a temporary directory, starts it on a
// free loopback port and stops it at the end of t. Like PostgresURL, it skips
// t when PostgreSQL's programs are missing, and fails it when CI=true.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("testdb: initdb and pg_ctl are required in CI (/usr/lib/postgresql/*/bin)")
		}
		t.Skip("testdb: skipping, initdb and pg_ctl not found in /usr/lib/postgresql/*/bin")
	}
	c := &Cluster{t: t, bin: bin}
	if os.Geteuid() == 0 {
		c.asUser = "postgres"
	}
	root, err := os.MkdirTemp("", "agenthooks-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	c.dir = filepath.Join(root, "data")
	if c.asUser != "" {
		u, err := user.Lookup(c.asUser)
		if err != nil {
			t.Fatalf("testdb: running as root needs the %s user: %v", c.asUser, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := c.command("initdb", "-D", c.dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		t.Fatalf("testdb: initdb: %v\n%s", err, out)
	}
	c.port = freePort(t)
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = ''\nfsync = off\nmax_connections = 200\nshared_buffers = 32MB\n", c.port)
	if err := appendFile(filepath.Join(c.dir, "postgresql.conf"), conf); err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(func() { _ = c.pgctl("stop", "-m", "immediate") })
	return c
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// postgresBin returns the newest /usr/lib/postgresql/*/bin holding pg_ctl.
func postgresBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *Cluster) pgctl(args ...string) error {
	args = append([]string{"-D", c.dir, "-w", "-t", "60", "-l", filepath.Join(filepath.Dir(c.dir), "server.log")}, args...)
	if out, err := c.command("pg_ctl", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// ServerURL is the URL of the cluster's postgres database (create databases there).
func (c *Cluster) ServerURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Port is the cluster's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// Stop stops the server at once (connections are cut, as in a crash of the
// server or of its machine, but without losing committed data).
func (c *Cluster) Stop() {
	c.t.Helper()
	if err := c.pgctl("stop", "-m", "fast"); err != nil {
		c.t.Fatalf("testdb: %v", err)
	}
}

// Start starts the server and waits until it takes connections.
func (c *Cluster) Start() {
	c.t.Helper()
	if err := c.pgctl("start"); err != nil {
		c.t.Fatalf("testdb: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, c.ServerURL())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("testdb: the cluster on port %d did not come up: %v", c.port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Database creates a fresh database on the cluster and returns its URL.
func (c *Cluster) Database(name string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.ServerURL())
	if err != nil {
		c.t.Fatalf("testdb: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		c.t.Fatalf("testdb: create database: %v", err)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}
