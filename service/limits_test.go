package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/storetest"
)

// TestSizeLimits is a property test of each bound of CONTRACT.md section 3:
// for random lengths around the bound, a value is accepted exactly when it is
// within it, and a refusal is a 422 on the field at fault.
func TestSizeLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	svc := service.New(testdb.OpenSQLite(t, clock.Now), nil, nil)
	acc, err := svc.CreateAccount(ctx, "acme")
	must(t, err)
	rng := rand.New(rand.NewPCG(25, 25))
	// A name counts characters: a multi-byte letter is one.
	letters := []string{"a", "é", "語", "🙂"}
	text := func(n int) string {
		l := letters[rng.IntN(len(letters))]
		return strings.Repeat(l, n)
	}
	type bound struct {
		name  string
		max   int // characters for names, bytes for the rest
		chars bool
		loc   string
		try   func(v string) error
	}
	bounds := []bound{
		{"intent name", service.MaxNameChars, true, "name", func(v string) error {
			_, err := svc.CreateIntent(ctx, acc.ID, v, "", nil)
			return err
		}},
		{"intent description", service.MaxDescriptionBytes, false, "description", func(v string) error {
			_, err := svc.CreateIntent(ctx, acc.ID, "i", v, nil)
			return err
		}},
		{"form field name", service.MaxNameChars, true, "fields.0.name", func(v string) error {
			_, err := svc.CreateForm(ctx, acc.ID, service.FormInput{Name: "f", Fields: []agenthooks.FormField{{Name: v, Type: "text"}}})
			return err
		}},
		{"form name", service.MaxNameChars, true, "name", func(v string) error {
			_, err := svc.CreateForm(ctx, acc.ID, service.FormInput{Name: v})
			return err
		}},
		{"assistant name", service.MaxNameChars, true, "name", func(v string) error {
			_, err := svc.CreateAssistant(ctx, acc.ID, service.AssistantInput{Name: v})
			return err
		}},
		{"assistant description", service.MaxDescriptionBytes, false, "description", func(v string) error {
			_, err := svc.CreateAssistant(ctx, acc.ID, service.AssistantInput{Name: "a", Description: v})
			return err
		}},
		{"API key name", service.MaxNameChars, true, "name", func(v string) error {
			_, err := svc.CreateAPIKey(ctx, acc.ID, v)
			return err
		}},
	}
	for _, b := range bounds {
		t.Run(b.name, func(t *testing.T) {
			for range 12 {
				n := b.max - 3 + rng.IntN(7) // around the bound
				v := text(n)
				if !b.chars {
					v = strings.Repeat("x", n)
				}
				err := b.try(v)
				if n <= b.max {
					if err != nil {
						t.Fatalf("%d: %v, want accepted", n, err)
					}
					continue
				}
				var e *agenthooks.Error
				if !asError(err, &e) || e.Code != agenthooks.EINVALID || locOf(e) != b.loc {
					t.Fatalf("%d: %v, want 422 on %s", n, err, b.loc)
				}
			}
		})
	}
}

func asError(err error, target **agenthooks.Error) bool {
	e, ok := err.(*agenthooks.Error)
	if ok {
		*target = e
	}
	return ok
}

func locOf(e *agenthooks.Error) string {
	if len(e.Fields) == 0 {
		return ""
	}
	parts := make([]string, len(e.Fields[0].Loc))
	for i, l := range e.Fields[0].Loc {
		parts[i] = fmt.Sprint(l)
	}
	return strings.Join(parts, ".")
}
