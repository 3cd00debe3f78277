package httpapi

import (
	"net/http"
	"strconv"

	"github.com/agenthooks/agenthooks"
	"github.com/google/uuid"
)

// conversationFilterParams reads GET /conversation's id and flag filters into
// f so that none is ignored (CONTRACT section 3: a filter value it cannot
// apply is a 422). Decision: an assistant_id that is well formed but not one
// of the account's is applied and matches nothing (an empty list, as
// before); a malformed one is a 422 on its query parameter. An intent_id not
// of the account's (or malformed) is a 422, since Insighto's clients pick it
// from their intents; includes_voice is true or false (strconv.ParseBool's
// spellings: 1, t, TRUE, ...), anything else 422.
func (s *Server) conversationFilterParams(r *http.Request, a acct, f *agenthooks.ConversationFilter) error {
	q := r.URL.Query()
	if id := q.Get("assistant_id"); q.Has("assistant_id") && uuid.Validate(id) != nil {
		return queryError("assistant_id", "Input should be a valid UUID", "uuid_parsing")
	}
	if id := q.Get("intent_id"); q.Has("intent_id") {
		if _, err := s.svc.GetIntent(r.Context(), a.ID, id); err != nil {
			return unknownFilterID(err, "intent_id", "intent")
		}
		f.IntentID = id
	}
	if v := q.Get("includes_voice"); q.Has("includes_voice") {
		voice, err := strconv.ParseBool(v)
		if err != nil {
			return queryError("includes_voice", "Input should be a valid boolean, unable to interpret input", "bool_parsing")
		}
		f.Voice = &voice
	}
	return nil
}

// unknownFilterID turns a lookup's not-found into a 422 on the parameter and
// passes any other error (a store that is down stays a 503).
func unknownFilterID(err error, name, kind string) error {
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return queryError(name, "Not one of this account's "+kind+"s", "value_error")
	}
	return err
}
