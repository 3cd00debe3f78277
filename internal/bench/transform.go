package bench

import (
	"fmt"
	"strings"

	"github.com/agenthooks/agenthooks/transform"
)

// transformation is the webhook field that --transform NAME gives every
// webhook of the bench: the template as GET /transformation_template has
// it, run unchanged, and a last step that copies the conversation id into
// the message, by which the receiver knows each event (the templates'
// messages do not carry it). The step is a property read and a write: the
// figures are the template's.
func transformation(name string) (map[string]any, error) {
	t, ok := transform.LookupTemplate(name)
	if !ok {
		return nil, fmt.Errorf("--transform: no template %q (GET /transformation_template lists them)", name)
	}
	const decl = "function handler("
	if strings.Count(t.Code, decl) != 1 {
		return nil, fmt.Errorf("--transform %s: the template does not define handler once", name)
	}
	code := strings.Replace(t.Code, decl, "function templateHandler(", 1) + `
function handler(webhook) {
  var id = webhook.payload.data.conversation_id;
  var out = templateHandler(webhook);
  out.payload.conversation_id = id;
  return out;
}
`
	return map[string]any{"code": code, "enabled": true}, nil
}

func knownTemplate(name string) bool {
	_, ok := transform.LookupTemplate(name)
	return ok
}
