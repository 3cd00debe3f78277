package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/transform"
)

// transformationView is a webhook's transformation as read (null: none).
type transformationView struct {
	Code    string `json:"code" doc:"The JavaScript."`
	Enabled bool   `json:"enabled" doc:"Whether it runs."`
}

func newTransformationView(t *agenthooks.Transformation) *transformationView {
	if t == nil {
		return nil
	}
	return &transformationView{Code: t.Code, Enabled: t.Enabled}
}

// webhookTransformation reads the body's transformation: absent (set
// false), null (set, nil) or {code, enabled} (enabled defaults to true); a
// wrong type fails on its own field (["body", "transformation", "code"]).
func (b *body) webhookTransformation() (set bool, t *agenthooks.Transformation) {
	set, fields := b.optObject("transformation")
	if fields == nil {
		return set, nil
	}
	t = &agenthooks.Transformation{Enabled: true}
	if v, ok := fields["code"]; !ok || isNull(v) {
		b.errs = append(b.errs, agenthooks.FieldError{Loc: []any{"transformation", "code"}, Msg: "Field required", Type: "missing"})
	} else if err := json.Unmarshal(v, &t.Code); err != nil {
		b.errs = append(b.errs, agenthooks.FieldError{Loc: []any{"transformation", "code"}, Msg: kString.msg, Type: kString.typ})
	}
	if v, ok := fields["enabled"]; ok && !isNull(v) {
		if err := json.Unmarshal(v, &t.Enabled); err != nil {
			b.errs = append(b.errs, agenthooks.FieldError{Loc: []any{"transformation", "enabled"}, Msg: kBool.msg, Type: kBool.typ})
		}
	}
	return true, t
}

// testTransformation: POST /outbound_webhook/{id}/transformation/test
// {code?, event_id? | event_type + payload?} → {method, url, headers, body, cancel}.
func (s *Server) testTransformation(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.TransformationTest
	in.Code = b.optStr("code")
	if id := b.optStr("event_id"); id != nil {
		in.EventID = *id
	}
	if t := b.optStr("event_type"); t != nil {
		in.EventType = *t
	}
	if raw, ok := b.fields["payload"]; ok && !isNull(raw) {
		in.Payload = raw
	}
	if err := b.err(); err != nil {
		return err
	}
	out, err := s.svc.TestTransformation(r.Context(), a.ID, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	if out.Body == nil {
		out.Body = json.RawMessage("null")
	}
	ok(w, http.StatusOK, "OK", out)
	return nil
}

// listTransformationTemplates: GET /transformation_template.
func (s *Server) listTransformationTemplates(w http.ResponseWriter, r *http.Request, a acct) error {
	ok(w, http.StatusOK, "OK", transform.Templates)
	return nil
}
