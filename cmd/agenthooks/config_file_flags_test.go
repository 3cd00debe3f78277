package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileFlags: each _FILE variable has its flag (--admin-key-file, ...),
// as the README says every variable has one. The order: --x, then
// --x-file, then AGENTHOOKS_X, then AGENTHOOKS_X_FILE.
func TestFileFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flagKey, envKey := write("flag.key", "from-flag-file-0123456789abcdef"), write("env.key", "from-env-file-0123456789abcdef")
	db := write("db.url", "sqlite:"+filepath.Join(dir, "from-file.db"))
	tests := []struct {
		name string
		e    env
		args []string
		want string
	}{
		{"FlagFile", env{}, []string{"--admin-key-file", flagKey}, "from-flag-file-0123456789abcdef"},
		{"FlagFileBeatsEnv", env{"AGENTHOOKS_ADMIN_KEY": "from-env-0123456789abcdef"}, []string{"--admin-key-file", flagKey}, "from-flag-file-0123456789abcdef"},
		{"FlagBeatsFlagFile", env{}, []string{"--admin-key-file", flagKey, "--admin-key", "from-flag-0123456789abcdef"}, "from-flag-0123456789abcdef"},
		{"EnvFile", env{"AGENTHOOKS_ADMIN_KEY_FILE": envKey}, nil, "from-env-file-0123456789abcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(t, tt.e, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if c.AdminKey != tt.want {
				t.Errorf("admin key %q, want %q", c.AdminKey, tt.want)
			}
		})
	}
	c, err := loadConfig(t, env{}, "--database-url-file", db)
	if err != nil || !strings.HasSuffix(c.DatabaseURL, "from-file.db") {
		t.Errorf("--database-url-file: %v, %v", c, err)
	}
	_, err = loadConfig(t, env{}, "--encryption-key-file", filepath.Join(dir, "missing"))
	if err == nil || !strings.Contains(err.Error(), "--encryption-key-file") {
		t.Errorf("a missing --encryption-key-file: %v, want an error naming the flag", err)
	}
}
