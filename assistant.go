package agenthooks

import (
	"encoding/json"
	"time"
)

// Assistant is an AI agent; WebhookID is the webhook assigned to it ("Assign Webhook").
// The descriptive fields (Description to Attributes) are Insighto's: they are
// kept and returned, nothing more.
type Assistant struct {
	ID            string
	AccountID     string
	Name          string
	AssistantType string // one of AssistantTypes
	WebhookID     string // "" when none
	Description   string
	LLMModel      string
	SystemPrompt  string
	// Voice is Insighto's boolean: the assistant speaks. VoiceName is the
	// voice it speaks with (this API's "voice" string before it took
	// Insighto's type; an assistant stored with a voice name reads Voice true).
	Voice          bool
	VoiceName      string
	VoiceLanguages []string
	Attributes     json.RawMessage // a JSON object
	Profile        AssistantProfile
	// IntentIDs are the intents the assistant uses, in their creation order.
	// The store keeps them apart (Tx.AssistantIntentIDs): FindAssistant and
	// ListAssistants leave IntentIDs nil, and the service fills it in.
	IntentIDs []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AssistantTypes lists Insighto's assistant types; DefaultAssistantType is
// the one an assistant created without a type gets.
var AssistantTypes = []string{"chat", "nl2sql", "phone", "realtime_openai", "simple"}

// DefaultAssistantType is the type of an assistant created without one.
const DefaultAssistantType = "simple"

// assistantTypeAliases: "personal" was this API's default before it took
// Insighto's types; it is still accepted and stored as "simple".
var assistantTypeAliases = map[string]string{"personal": DefaultAssistantType}

// CanonicalAssistantType returns the current name of assistant type t and
// whether t is an assistant type at all (an alias counts).
func CanonicalAssistantType(t string) (string, bool) {
	if name, ok := assistantTypeAliases[t]; ok {
		return name, true
	}
	for _, a := range AssistantTypes {
		if a == t {
			return t, true
		}
	}
	return "", false
}

// Operations on assistants and the intents they use; part of Tx.
type assistantTx interface {
	CreateAssistant(a *Assistant) error
	FindAssistant(accountID, id string) (*Assistant, error)
	ListAssistants(accountID string, p Page) ([]*Assistant, int, error)
	UpdateAssistant(a *Assistant) error
	DeleteAssistant(accountID, id string) error

	// AddAssistantIntent records that the assistant uses the intent (doing
	// nothing if it already does). The caller checks that both are the
	// account's.
	AddAssistantIntent(accountID, assistantID, intentID string) error
	// RemoveAssistantIntent ends the assistant's use of the intent;
	// ENOTFOUND if it did not use it.
	RemoveAssistantIntent(accountID, assistantID, intentID string) error
	// AssistantIntentIDs returns the intent ids of each of the account's
	// assistants among assistantIDs that uses any, in the intents' creation
	// order.
	AssistantIntentIDs(accountID string, assistantIDs []string) (map[string][]string, error)
}
