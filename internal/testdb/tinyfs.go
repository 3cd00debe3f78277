package testdb

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TinyFS mounts a tmpfs of size bytes in a temporary directory and returns
// its path; it is unmounted at the end of t. Filling it is how tests make
// SQLite's disk full for real. Mounting needs root: without it, t is skipped,
// or fails when CI=true.
func TinyFS(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	mnt := filepath.Join(dir, "tiny")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", mnt).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testdb: mounting a tmpfs (needed in CI, as root) failed: %v\n%s", err, out)
		}
		t.Skipf("testdb: skipping, cannot mount a tmpfs (needs root): %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Errorf("testdb: umount %s: %v\n%s", mnt, err, out)
		}
	})
	return mnt
}

// Fill writes a file of zeros in dir until the file system is full and
// returns its path: removing it makes room again.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break // ENOSPC: full
		}
	}
	// The last pages a partial write could take.
	small := make([]byte, 512)
	for {
		if _, err := f.Write(small); err != nil {
			break
		}
	}
	return path
}
