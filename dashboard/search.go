package dashboard

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/google/uuid"
)

// searchWindow is how far back a search by text looks: the payloads of
// the last 7 days, read through the (account_id, created_at) indexes and
// counted up to agenthooks.SearchCap, so that a search costs the same
// whatever the account's history holds. An id is found at any age.
const searchWindow = 7 * 24 * time.Hour

// searchMax is the longest search text taken.
const searchMax = 200

// search is what a list's Search field asked for.
type search struct {
	Text     string // as typed, trimmed
	ID       bool   // Text is an id: found exactly, at any age
	Since    time.Time
	Error    string
	NotFound string
}

// readSearch reads the q parameter of r.
func readSearch(r *http.Request) search {
	s := search{Text: strings.TrimSpace(r.URL.Query().Get("q"))}
	switch {
	case s.Text == "":
	case len(s.Text) > searchMax:
		s.Error, s.Text = "Search for at most 200 characters", ""
	default:
		_, err := uuid.Parse(s.Text)
		s.ID = err == nil && len(s.Text) == 36
		s.Since = time.Now().Add(-searchWindow)
	}
	return s
}

// since narrows a list's From to the search window.
func (s search) since(from time.Time) time.Time {
	if from.Before(s.Since) {
		return s.Since
	}
	return from
}

// findByID looks an id up as an event's or a delivery's of the account, and
// returns the page to go to ("" when it is neither).
func (d *Dashboard) findByID(ctx context.Context, accountID, id string, deliveryFirst bool) (string, error) {
	find := []func() (string, error){
		func() (string, error) { _, err := d.svc.GetEvent(ctx, accountID, id); return "/events/" + id, err },
		func() (string, error) {
			_, err := d.svc.GetDelivery(ctx, accountID, id)
			return "/deliveries/" + id, err
		},
	}
	if deliveryFirst {
		find[0], find[1] = find[1], find[0]
	}
	for _, f := range find {
		path, err := f()
		if err == nil {
			return path, nil
		}
		if agenthooks.ErrorCode(err) != agenthooks.ENOTFOUND {
			return "", err
		}
	}
	return "", nil
}
