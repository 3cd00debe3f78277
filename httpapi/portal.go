package httpapi

import (
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

func (s *Server) routesPortal() {
	s.handle("POST /portal_session", s.createPortalSession)
}

// portalSessionView is the body of a created portal session.
type portalSessionView struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createPortalSession makes a single-use sign-in link to the account's
// dashboard: {expires_in?: seconds (default 3600, 60 to 604800), read_only?}.
func (s *Server) createPortalSession(w http.ResponseWriter, r *http.Request, a acct) error {
	return s.portalSession(w, r, a.ID)
}

// adminPortalSession is createPortalSession for the account named in the
// path, on the platform's admin key: ENOTFOUND when there is no such account.
func (s *Server) adminPortalSession(w http.ResponseWriter, r *http.Request) error {
	a, err := s.svc.GetAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.portalSession(w, r, a.ID)
}

// portalSession reads {expires_in?, read_only?} and answers a new portal
// link to the account's dashboard.
func (s *Server) portalSession(w http.ResponseWriter, r *http.Request, accountID string) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	expiresIn := service.PortalDefault
	var secs float64
	if get(b, "expires_in", false, kNumber, &secs) {
		lo, hi := service.PortalMin.Seconds(), service.PortalMax.Seconds()
		switch {
		case secs != math.Trunc(secs):
			b.fail("expires_in", "Input should be a valid integer", "int_type")
		case secs < lo || secs > hi:
			b.fail("expires_in", "Input should be between 60 and 604800 seconds", "value_error")
		default:
			expiresIn = time.Duration(secs) * time.Second
		}
	} else if b.present("expires_in") {
		b.fail("expires_in", "Input should be a valid integer", "int_type")
	}
	o := service.PortalOptions{ExpiresIn: expiresIn}
	if v := b.optBool("read_only"); v != nil {
		o.ReadOnly = *v
	}
	if v := b.optBool("embed"); v != nil {
		o.Embed = *v
	}
	if _, fields := b.optObject("theme"); fields != nil {
		sub := &body{fields: fields}
		if v := sub.optStr("accent_color"); v != nil {
			o.Theme.AccentColor = *v
		}
		if v := sub.optStr("logo_url"); v != nil {
			o.Theme.LogoURL = *v
		}
		if sub.err() == nil {
			if err := service.ValidateTheme(o.Theme); err != nil {
				var ae *agenthooks.Error
				if errors.As(err, &ae) {
					b.errs = append(b.errs, ae.Fields...)
				}
			}
		}
		for _, e := range sub.errs {
			e.Loc = append([]any{"theme"}, e.Loc...)
			b.errs = append(b.errs, e)
		}
	}
	if err := b.err(); err != nil {
		return err
	}
	url, expiresAt, err := s.svc.CreatePortalLink(r.Context(), accountID, o)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Portal session created", portalSessionView{URL: url, ExpiresAt: expiresAt.UTC()})
	return nil
}

// portalSessionOp documents POST /portal_session (openapi.go).
var portalSessionOp = apiOp{id: "createPortalSession", tag: "portal", summary: "Create a portal link to the account's dashboard",
	desc: "A single-use link (url) that signs its first visitor before expires_at into this account's dashboard, read-only when read_only, " +
		"drawn for an iframe when embed (with the theme's accent colour and logo); " +
		"any later visit, or one after expires_at, answers 410. The token in it is stored hashed. The dashboard session ends at expires_at or at sign-out.",
	body: "PortalSessionCreate", bodyOptional: true, status: 201, data: "PortalSession"}

// portalSchemas adds the portal session's schemas to the OpenAPI document.
func portalSchemas(s schema) {
	expires := jsInt(60, "Seconds until the link and the session it starts expire (default 3600).")
	expires["maximum"] = 604800
	s["PortalSessionCreate"] = jsObject(nil, schema{
		"expires_in": expires,
		"read_only":  jsType("boolean", "true: the session shows everything but changes nothing (default false)."),
		"embed":      jsType("boolean", "true: the dashboard is drawn for the platform's iframe: no brand bar, account name or sign-out of its own (default false)."),
		"theme": jsObject(nil, schema{
			"accent_color": schema{"type": "string", "pattern": "^#[0-9a-fA-F]{6}$", "description": "The accent colour, #rrggbb (darkened where needed so text on it stays readable)."},
			"logo_url":     schema{"type": "string", "format": "uri", "maxLength": 2048, "description": "An https URL of the platform's logo, shown at the top of the dashboard."},
		}),
	})
	s["PortalSession"] = jsAll(schema{
		"url":        jsNullString("AGENTHOOKS_PUBLIC_URL + /portal/ + a single-use token;" + replayedNull + " (the token is stored hashed)."),
		"expires_at": jsTime(""),
	})
}
