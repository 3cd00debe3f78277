package main

import (
	"testing"
	"time"
)

// The shutdown log names a grace only when serve waits it: a worker has no
// API to drain and returns at once (issue 25 item 11: it logged a grace it
// did not wait).
func TestDrains(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role  string
		grace time.Duration
		want  bool
	}{
		{"all", 5 * time.Second, true},
		{"api", 5 * time.Second, true},
		{"worker", 5 * time.Second, false},
		{"all", 0, false},
	}
	for _, tt := range tests {
		a := &app{cfg: &Config{Role: tt.role, ShutdownGrace: tt.grace}}
		if got := a.drains(); got != tt.want {
			t.Errorf("role %s, grace %v: drains %v, want %v", tt.role, tt.grace, got, tt.want)
		}
	}
}
