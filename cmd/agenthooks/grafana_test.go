package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGrafanaDashboard checks deploy/grafana's dashboards against the series
// a running serve exports on /metrics: every metric name in every query
// exists (a histogram's _bucket, _sum and _count included), so that a
// renamed metric breaks CI rather than a panel. Debian and npm ship no
// Grafana to load them into (docs/operations.md), so this is the check.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	a, _, stop := launch(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "grafana.db")})
	defer stop()
	exported := scrapeNames(t, a.URL()+"/metrics")

	files, err := filepath.Glob(filepath.Join("..", "..", "deploy", "grafana", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in deploy/grafana: %v", err)
	}
	metricName := regexp.MustCompile(`\b(?:agenthooks|go|process)_[a-zA-Z0-9_]+\b`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID    string            `json:"uid"`
			Title  string            `json:"title"`
			Panels []json.RawMessage `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
			t.Fatalf("%s: want a uid, a title and panels", f)
		}
		var doc any
		_ = json.Unmarshal(b, &doc)
		exprs := collectExprs(doc, nil)
		if len(exprs) < len(d.Panels) {
			t.Fatalf("%s: %d queries for %d panels", f, len(exprs), len(d.Panels))
		}
		for _, e := range exprs {
			names := metricName.FindAllString(e, -1)
			if len(names) == 0 {
				t.Errorf("%s: query %q names no agenthooks, go or process metric", f, e)
			}
			for _, n := range names {
				if !exported[n] {
					t.Errorf("%s: query %q uses %s, which /metrics does not export", f, e, n)
				}
			}
		}
	}
}

// collectExprs gathers every "expr" string in a dashboard.
func collectExprs(v any, out []string) []string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "expr" {
				out = append(out, s)
				continue
			}
			out = collectExprs(x, out)
		}
	case []any:
		for _, x := range v {
			out = collectExprs(x, out)
		}
	}
	return out
}

// scrapeNames returns the metric names in a Prometheus text exposition.
func scrapeNames(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if len(names) == 0 {
		t.Fatal("/metrics exported nothing")
	}
	return names
}
