package transform

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// rssMB is this process's resident set (VmRSS), in MB.
func rssMB(t *testing.T) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// 1,000 webhooks, each with a transformation of its own (a template with
// a line of its own, so that none shares a program), compiled through the
// cache, each with its pool of runtimes full (two, what a busy webhook
// keeps) and run: the process stays under 300 MB of RSS.
func TestMemoryThousandTransformations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 1,000 programs")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory is in the RSS: run without -race")
	}
	env := golden(t)["conversation.closed"]
	before := rssMB(t)
	c := NewCache(0)
	progs := make([]*Program, 0, 1000)
	for i := range 1000 {
		tpl := Templates[i%len(Templates)]
		p, err := c.Program(tpl.Code + fmt.Sprintf("\nvar webhookNumber = %d;\n", i))
		if err != nil {
			t.Fatal(err)
		}
		progs = append(progs, p)
	}
	in := Input{Method: "POST", URL: "https://hooks.example.com/x", Payload: env}
	for _, p := range progs {
		// The pool full: a second runtime, as two runs at once leave.
		v, err := p.newVM()
		if err != nil {
			t.Fatal(err)
		}
		p.free <- v
		for range cap(p.free) {
			if _, err := p.Run(in); err != nil {
				t.Fatal(err)
			}
		}
		if len(p.free) != cap(p.free) {
			t.Fatalf("%d runtimes pooled, want %d", len(p.free), cap(p.free))
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	after := rssMB(t)
	t.Logf("1,000 programs: RSS %.0f MB (%.0f MB before), heap in use %.0f MB, %d cached", after, before, float64(ms.HeapInuse)/(1<<20), c.Len())
	if c.Len() != 1000 {
		t.Errorf("%d programs cached, want 1000", c.Len())
	}
	if after > 300 {
		t.Errorf("RSS %.0f MB with 1,000 transformations, want under 300 MB", after)
	}
	runtime.KeepAlive(progs)
}
