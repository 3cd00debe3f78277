package httpapi

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

// assistantIntentView is Insighto's assistant-intent record, the answer of POST
// /assistant/{id}/intent/{intent_id} (CONTRACT section 3). agenthooks keeps the
// link as a pair, not as a row of its own, so the record's id is derived from
// the pair: the same assistant and intent always answer the same id. A link
// that exists is active; attributes are Insighto's and always {} here.
type assistantIntentView struct {
	ID          string          `json:"id" oapi:"uuid" doc:"Derived from the pair: the same assistant and intent always answer the same id."`
	AssistantID string          `json:"assistant_id" oapi:"uuid"`
	IntentID    string          `json:"intent_id" oapi:"uuid"`
	IsActive    bool            `json:"is_active" doc:"Always true: a link that exists is active."`
	Attributes  json.RawMessage `json:"attributes" doc:"Insighto's; always {} here."`
}

func newAssistantIntentView(assistantID, intentID string) assistantIntentView {
	return assistantIntentView{
		ID:          pairID(assistantID, intentID),
		AssistantID: assistantID,
		IntentID:    intentID,
		IsActive:    true,
		Attributes:  json.RawMessage("{}"),
	}
}

// pairID is a name-based UUID (version 8, RFC 9562) of the SHA-256 of the two
// ids, so that it looks like every other id and is stable across calls.
func pairID(a, b string) string {
	h := sha256.Sum256([]byte(a + "\x00" + b))
	h[6] = h[6]&0x0f | 0x80
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// deletedWithDetails is DELETE /assistant/{id}'s body, {"message", "data",
// "details"} as Insighto's: details says what the delete did to what used it.
type deletedWithDetails struct {
	Message string            `json:"message"`
	Data    map[string]string `json:"data"`
	Details string            `json:"details"`
}

// assistantDeletePath gives DELETE /assistant/{id}'s success body its details.
func assistantDeletePath(paths schema) {
	item, _ := paths[base+"/assistant/{id}"].(schema)
	op, _ := item["delete"].(schema)
	if op == nil {
		return
	}
	body := wrapped(jsRef("Deleted"))
	props := body["properties"].(schema)
	props["details"] = jsString("What the delete removed besides the assistant.")
	body["required"] = []string{"message", "data", "details"}
	op["responses"].(schema)["200"].(schema)["content"] = jsonContent(body)
}
