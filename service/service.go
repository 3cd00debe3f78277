// Package service implements agenthooks' operations over a Store: the
// management of webhooks, assistants, widgets, forms, intents and contacts, the
// agent runtime (conversations, messages, captured forms and intents), and the
// events they fire, each stored with its deliveries in the transaction of the
// call that caused it. It knows nothing of HTTP; httpapi exposes it.
package service

import (
	"go.opentelemetry.io/otel/trace"

	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agenthooks/agenthooks"
)

// EndpointValidator checks a webhook endpoint URL at creation (egress.Policy).
type EndpointValidator interface {
	ValidateEndpoint(ctx context.Context, raw string) error
}

// Service runs the operations. Build it with New.
type Service struct {
	store    agenthooks.Store
	validate EndpointValidator
	log      *slog.Logger
	// RotationOverlap is how long a rotated-out secret keeps signing (24h).
	RotationOverlap time.Duration
	touches         keyTouches // when each API key's last use was written (accounts.go)
	// PublicURL is the base URL people reach the dashboard at
	// (AGENTHOOKS_PUBLIC_URL); portal links are built on it.
	PublicURL string
	// Events, if set, is told of every event created (see observe.go).
	Events EventObserver
	// MaxWebhooks is the most webhooks an account may have
	// (AGENTHOOKS_MAX_WEBHOOKS); creating one more is 422. 0: no limit.
	MaxWebhooks int
	// Handoff, if set, is this process's delivery pool: a delivery it has a
	// worker for is stored already leased and handed to that worker when
	// its transaction commits (handoff.go).
	Handoff Handoff

	// Tracer, when set, traces each store write (service/trace.go); nil: none.
	Tracer trace.Tracer
}

// New returns a Service over store; validate checks endpoints.
func New(store agenthooks.Store, validate EndpointValidator, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: store, validate: validate, log: log, RotationOverlap: 24 * time.Hour}
}

// NewID returns a new UUIDv7 string: ids sort in creation order.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// NewAPIKey returns a new API key and the hash under which it is stored.
func NewAPIKey() (key, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate api key: %w", err)
	}
	key = "ak_" + base64.RawURLEncoding.EncodeToString(b)
	return key, HashAPIKey(key), nil
}

// HashAPIKey returns the stored form of an API key. Keys are 256 random bits,
// so a plain SHA-256 is enough: there is nothing to brute-force.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreatedAccount is an account with its API key, shown once.
type CreatedAccount struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	APIKey    string    `json:"api_key"`
	CreatedAt time.Time `json:"-"`
}

// CreateAccount creates an account and its first API key.
func (s *Service) CreateAccount(ctx context.Context, name string) (*CreatedAccount, error) {
	name = strings.TrimSpace(name)
	if err := checkName("name", name); err != nil {
		return nil, err
	}
	var a *agenthooks.Account
	var key string
	err := s.store.Write(ctx, func(tx agenthooks.Tx) error {
		var k *agenthooks.APIKey
		var err error
		if k, key, err = newKey("default", tx.Now()); err != nil {
			return err
		}
		a = &agenthooks.Account{ID: NewID(), Name: name, CreatedAt: tx.Now()}
		return tx.CreateAccountWithKey(a, k)
	})
	if err != nil {
		return nil, err
	}
	return &CreatedAccount{ID: a.ID, Name: a.Name, APIKey: key, CreatedAt: a.CreatedAt}, nil
}

// EnsureFirstAccount creates an account named "default" if the store has none,
// and returns it with its key; it returns nil when accounts already exist.
func (s *Service) EnsureFirstAccount(ctx context.Context) (*CreatedAccount, error) {
	var a *agenthooks.Account
	var key string
	err := s.store.Write(ctx, func(tx agenthooks.Tx) error {
		n, err := tx.CountAccounts()
		if err != nil || n > 0 {
			return err
		}
		var k *agenthooks.APIKey
		if k, key, err = newKey("default", tx.Now()); err != nil {
			return err
		}
		a = &agenthooks.Account{ID: NewID(), Name: "default", CreatedAt: tx.Now()}
		return tx.CreateAccountWithKey(a, k)
	})
	if err != nil || a == nil {
		return nil, err
	}
	return &CreatedAccount{ID: a.ID, Name: a.Name, APIKey: key, CreatedAt: a.CreatedAt}, nil
}

// RotateAccountKey revokes every key of the account at once, ends every
// dashboard session and portal link of it, and returns one new key (named
// "default").
func (s *Service) RotateAccountKey(ctx context.Context, accountID string) (*CreatedAccount, error) {
	var a *agenthooks.Account
	var key string
	err := s.store.Write(ctx, func(tx agenthooks.Tx) error {
		var err error
		if a, err = tx.FindAccountByID(accountID); err != nil {
			return err
		}
		var k *agenthooks.APIKey
		if k, key, err = newKey("default", tx.Now()); err != nil {
			return err
		}
		if err := tx.ReplaceAccountKeys(accountID, k); err != nil {
			return err
		}
		// A rotation is for a leaked key: every session of the account ends,
		// whatever it was signed in with.
		return tx.DeleteAccountSessions(accountID)
	})
	if err != nil {
		return nil, err
	}
	return &CreatedAccount{ID: a.ID, Name: a.Name, APIKey: key, CreatedAt: a.CreatedAt}, nil
}

// Authenticate returns the account owning key, or EUNAUTHORIZED.
func (s *Service) Authenticate(ctx context.Context, key string) (*agenthooks.Account, error) {
	if key == "" {
		return nil, agenthooks.Errorf(agenthooks.EUNAUTHORIZED, "Not authenticated.")
	}
	var a *agenthooks.Account
	hash := HashAPIKey(key)
	find := func(tx agenthooks.Tx) error {
		var err error
		a, err = tx.FindAccountByKeyHash(hash)
		return err
	}
	err := s.store.ReadOne(ctx, find)
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return nil, agenthooks.Errorf(agenthooks.EUNAUTHORIZED, "Invalid API key.")
	}
	if err != nil {
		return nil, err
	}
	s.touch(ctx, hash)
	return a, nil
}

// List is one page of a list.
type List[T any] struct {
	Items []T
	Total int
	Page  agenthooks.Page
}

func read[T any](ctx context.Context, s *Service, fn func(tx agenthooks.Tx) (T, error)) (T, error) {
	var v T
	err := s.store.Read(ctx, func(tx agenthooks.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

func write[T any](ctx context.Context, s *Service, fn func(tx agenthooks.Tx) (T, error)) (T, error) {
	var v T
	ctx, end := s.traceWrite(ctx) // service/trace.go
	err := s.store.Write(ctx, func(tx agenthooks.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	end(err)
	return v, err
}

func list[T any](ctx context.Context, s *Service, p agenthooks.Page, fn func(tx agenthooks.Tx) ([]T, int, error)) (*List[T], error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*List[T], error) {
		items, total, err := fn(tx)
		if err != nil {
			return nil, err
		}
		return &List[T]{Items: items, Total: total, Page: p}, nil
	})
}
