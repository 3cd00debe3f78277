package dashboard

import (
	"net/http"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// routesSettings registers Settings → API Keys: the account's keys, listed
// (never a key), created (the key shown once, on the page that answers the
// create) and revoked (after a confirmation; the last key cannot be).
func (d *Dashboard) routesSettings() {
	d.page("GET /settings", func(w http.ResponseWriter, r *http.Request, _ *session) error {
		http.Redirect(w, r, "/settings/api-keys", http.StatusSeeOther)
		return nil
	})
	d.page("GET /settings/api-keys", d.listAPIKeys)
	d.page("POST /settings/api-keys", d.createAPIKey)
	d.page("GET /settings/api-keys/{id}/revoke", d.confirmRevokeAPIKey)
	d.page("POST /settings/api-keys/{id}/revoke", d.revokeAPIKey)
	d.page("POST /settings/sign-out-everywhere", d.signOutEverywhere)
}

// signOutEverywhere ends every dashboard session of the account, this one
// included (a read-only session cannot: page answers its POST 403).
func (d *Dashboard) signOutEverywhere(w http.ResponseWriter, r *http.Request, s *session) error {
	if _, err := d.svc.SignOutEverywhere(r.Context(), s.account.ID); err != nil {
		return err
	}
	d.clearCookie(w)
	http.Redirect(w, r, "/?flash=signed-out-all", http.StatusSeeOther)
	return nil
}

// apiKeysData is the API Keys page's content.
type apiKeysData struct {
	Keys    []*agenthooks.APIKey
	Pager   pager
	Created *service.CreatedAPIKey // the key just made, shown this once
	Name    string                 // the create form's name, as typed
	Errors  map[string]string
}

func (d *Dashboard) apiKeysData(r *http.Request, s *session) (apiKeysData, error) {
	p := pageParam(r)
	l, err := d.svc.ListAPIKeys(r.Context(), s.account.ID, p)
	if err != nil {
		return apiKeysData{}, err
	}
	return apiKeysData{Keys: l.Items, Pager: newPager(r, p, l.Total)}, nil
}

func (d *Dashboard) listAPIKeys(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.apiKeysData(r, s)
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "apikeys.html", s, view{Title: "API Keys", Nav: "settings", D: data})
	return nil
}

// createAPIKey makes a named key and answers with the page that shows it:
// there is no redirect, so the key is never in a URL and shown only here.
func (d *Dashboard) createAPIKey(w http.ResponseWriter, r *http.Request, s *session) error {
	name := r.PostForm.Get("name")
	created, err := d.svc.CreateAPIKey(r.Context(), s.account.ID, name)
	errs := fieldErrors(err)
	if err != nil && errs == nil {
		return err
	}
	data, derr := d.apiKeysData(r, s)
	if derr != nil {
		return derr
	}
	if err != nil {
		data.Name, data.Errors = name, errs
		d.render(w, r, http.StatusUnprocessableEntity, "apikeys.html", s, view{Title: "API Keys", Nav: "settings", D: data})
		return nil
	}
	data.Created = created
	d.render(w, r, http.StatusCreated, "apikeys.html", s, view{Title: "API Keys", Nav: "settings", Flash: "API key created.", D: data})
	return nil
}

func (d *Dashboard) confirmRevokeAPIKey(w http.ResponseWriter, r *http.Request, s *session) error {
	k, err := d.svc.GetAPIKey(r.Context(), s.account.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "apikey_revoke.html", s, view{Title: "Revoke " + k.Name, Nav: "settings", D: k})
	return nil
}

// revokeAPIKey revokes a key at once; the last one answers 409 with the
// API's message (Dashboard.fail).
func (d *Dashboard) revokeAPIKey(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := d.svc.DeleteAPIKey(r.Context(), s.account.ID, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/api-keys?flash=key-revoked", http.StatusSeeOther)
	return nil
}
