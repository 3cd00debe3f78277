package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Assertions

// stored returns a copy of *v as a store gives it back: times in UTC,
// truncated to microseconds.
func stored[T any](v *T) *T {
	c := *v
	rv := reflect.ValueOf(&c).Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		if tm, ok := f.Interface().(time.Time); ok && f.CanSet() {
			f.Set(reflect.ValueOf(tm.UTC().Truncate(time.Microsecond)))
		}
	}
	return &c
}

func checkEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got differs from want\n%s", what, describeDiff(got, want))
	}
}

// describeDiff names the differing fields of two structs (or pointers to
// them), or shows both values.
func describeDiff(got, want any) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for g.IsValid() && w.IsValid() && g.Kind() == reflect.Pointer && w.Kind() == reflect.Pointer && !g.IsNil() && !w.IsNil() {
		g, w = g.Elem(), w.Elem()
	}
	if !g.IsValid() || !w.IsValid() || g.Kind() != reflect.Struct || g.Type() != w.Type() {
		return fmt.Sprintf("   got %s\n  want %s", show(g), show(w))
	}
	var sb strings.Builder
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			fmt.Fprintf(&sb, "  %s: got %s, want %s\n", g.Type().Field(i).Name, show(g.Field(i)), show(w.Field(i)))
		}
	}
	return sb.String()
}

func show(v reflect.Value) string {
	switch {
	case !v.IsValid():
		return "<nil>"
	case v.Kind() == reflect.Pointer && !v.IsNil():
		return "&" + show(v.Elem())
	case (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.IsNil():
		return v.Type().String() + "(nil)"
	}
	if raw, ok := v.Interface().(json.RawMessage); ok {
		return fmt.Sprintf("json.RawMessage(%q)", string(raw))
	}
	return fmt.Sprintf("%#v", v.Interface())
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func mustCode(t testing.TB, err error, code, what string) {
	t.Helper()
	if got := agenthooks.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func idsOf[T any](items []T, id func(T) string) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = id(it)
	}
	return ids
}

func webhookID(w *agenthooks.Webhook) string           { return w.ID }
func conversationID(c *agenthooks.Conversation) string { return c.ID }
func deliveryID(d *agenthooks.Delivery) string         { return d.ID }

func jobIDs(jobs []*agenthooks.Job) []string {
	return idsOf(jobs, func(j *agenthooks.Job) string { return j.Delivery.ID })
}

// sameIDs compares two id lists in order, treating nil and empty alike.
func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedIDs(ids []string) []string {
	out := append([]string{}, ids...)
	sort.Strings(out)
	return out
}

func findJob(jobs []*agenthooks.Job, deliveryID string) *agenthooks.Job {
	for _, j := range jobs {
		if j.Delivery.ID == deliveryID {
			return j
		}
	}
	return &agenthooks.Job{}
}

func setOf(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func drain(c <-chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}
