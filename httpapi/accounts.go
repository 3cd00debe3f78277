package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// routesAccounts registers the account's API keys (an account key) and the
// platform's admin API (the admin key). docs/accounts.md describes both.
func (s *Server) routesAccounts() {
	s.handle("POST /api_key", s.createAPIKey)
	s.handle("GET /api_key", s.listAPIKeys)
	s.handle("GET /api_key/{id}", s.getAPIKey)
	s.handle("DELETE /api_key/{id}", s.deleteAPIKey)

	s.handleAdmin("POST /admin/account", s.adminCreateAccount)
	s.handleAdmin("GET /admin/account", s.adminListAccounts)
	s.handleAdmin("GET /admin/account/{id}", s.adminGetAccount)
	s.handleAdmin("POST /admin/account/{id}/rotate_key", s.adminRotateKey)
	s.handleAdmin("DELETE /admin/account/{id}", s.adminDeleteAccount)
	s.handleAdmin("POST /admin/account/{id}/portal_session", s.adminPortalSession)
}

// adminHandlerFunc is a handler of the admin API; a returned error is
// written by Server.Error.
type adminHandlerFunc func(w http.ResponseWriter, r *http.Request) error

// handleAdmin registers a route of the admin API. With no AdminKey set it
// answers 404 as an unknown path does, so that a server without an admin key
// does not even show it has an admin API; otherwise the request must carry
// Authorization: Bearer AdminKey (401 if not; an account's key is not an
// admin key). Admin requests are not per account, so Idempotency-Key does
// not apply to them (and the keys they answer are never stored in clear).
func (s *Server) handleAdmin(pattern string, h adminHandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.adminPatterns = append(s.adminPatterns, pattern)
	s.mux.Handle(method+" "+base+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.AdminKey == "" {
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
			return
		}
		if !s.isAdmin(r) {
			s.Error(w, r, agenthooks.Errorf(agenthooks.EUNAUTHORIZED, "Not authenticated: this route needs the admin key (Authorization: Bearer ...)."))
			return
		}
		if id := r.PathValue("id"); id != "" && !validText(id) {
			s.Error(w, r, agenthooks.NotFound("Account"))
			return
		}
		if err := h(w, r); err != nil {
			s.Error(w, r, err)
		}
	}))
}

// isAdmin reports whether r carries the admin key as a Bearer token. Both
// sides are hashed before the constant-time comparison, so that neither the
// time taken nor an early length mismatch tells anything about the key.
func (s *Server) isAdmin(r *http.Request) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	want := sha256.Sum256([]byte(s.AdminKey))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

type apiKeyView struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Prefix     string  `json:"prefix"`
	CreatedAt  *string `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
}

func newAPIKeyView(k *agenthooks.APIKey) apiKeyView {
	return apiKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: rfc3339(k.CreatedAt), LastUsedAt: rfc3339(k.LastUsedAt)}
}

type createdAPIKeyView struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Key       string  `json:"key"`
	CreatedAt *string `json:"created_at"`
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	name, _ := b.str("name", true)
	if err := b.err(); err != nil {
		return err
	}
	k, err := s.svc.CreateAPIKey(r.Context(), a.ID, name)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "API key created; it is shown this once", createdAPIKeyView{ID: k.ID, Name: k.Name, Key: k.Key, CreatedAt: rfc3339(k.CreatedAt)})
	return nil
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, a acct) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.APIKey], error) {
		return s.svc.ListAPIKeys(r.Context(), a.ID, p)
	}, newAPIKeyView)
}

func (s *Server) getAPIKey(w http.ResponseWriter, r *http.Request, a acct) error {
	k, err := s.svc.GetAPIKey(r.Context(), a.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newAPIKeyView(k))
	return nil
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request, a acct) error {
	id := r.PathValue("id")
	if err := s.svc.DeleteAPIKey(r.Context(), a.ID, id); err != nil {
		return err
	}
	ok(w, http.StatusOK, "API key revoked", map[string]string{"id": id})
	return nil
}

type adminAccountView struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	CreatedAt *string `json:"created_at"`
}

func newAdminAccountView(a *agenthooks.Account) adminAccountView {
	return adminAccountView{ID: a.ID, Name: a.Name, CreatedAt: rfc3339(a.CreatedAt)}
}

type adminCreatedView struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	APIKey    string  `json:"api_key"`
	CreatedAt *string `json:"created_at"`
}

type adminKeyView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	APIKey string `json:"api_key"`
}

func (s *Server) adminCreateAccount(w http.ResponseWriter, r *http.Request) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	name, _ := b.str("name", true)
	if err := b.err(); err != nil {
		return err
	}
	c, err := s.svc.CreateAccount(r.Context(), name)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Account created; its API key is shown this once", adminCreatedView{ID: c.ID, Name: c.Name, APIKey: c.APIKey, CreatedAt: rfc3339(c.CreatedAt)})
	return nil
}

func (s *Server) adminListAccounts(w http.ResponseWriter, r *http.Request) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Account], error) {
		return s.svc.FindAccounts(r.Context(), p)
	}, newAdminAccountView)
}

func (s *Server) adminGetAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := s.svc.GetAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newAdminAccountView(a))
	return nil
}

func (s *Server) adminRotateKey(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.RotateAccountKey(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "The account's keys are revoked; its new key is shown this once", adminKeyView{ID: c.ID, Name: c.Name, APIKey: c.APIKey})
	return nil
}

func (s *Server) adminDeleteAccount(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.svc.DeleteAccount(r.Context(), id); err != nil {
		return err
	}
	ok(w, http.StatusOK, "Account deleted with everything it owned", map[string]string{"id": id})
	return nil
}
