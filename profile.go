package agenthooks

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Insighto's descriptive fields of assistants, widgets, intents and contacts
// (colours, opening messages, action buttons, custom fields, ...): kept and
// returned, nothing more. Each resource holds them in a profile struct whose
// JSON names are Insighto's; the store keeps a profile as one JSON column, so
// a field added here is stored and returned without a migration. A nil field
// was never set: the API reads a nil string as null, a nil boolean as false
// (IntentProfile.IsActive as true), a nil list as [] and a nil object as {}.

// JSONObject is a JSON object kept verbatim (compacted); nil when unset.
type JSONObject json.RawMessage

// MarshalJSON writes the object, or null when unset.
func (o JSONObject) MarshalJSON() ([]byte, error) {
	if len(o) == 0 {
		return []byte("null"), nil
	}
	return o, nil
}

// UnmarshalJSON takes a JSON object, or null (unset); anything else is an error.
func (o *JSONObject) UnmarshalJSON(b []byte) error {
	v, err := compactOf(b, '{')
	*o = v
	return err
}

// JSONList is a JSON array kept verbatim (compacted); nil when unset.
type JSONList json.RawMessage

// MarshalJSON writes the list, or null when unset.
func (l JSONList) MarshalJSON() ([]byte, error) {
	if len(l) == 0 {
		return []byte("null"), nil
	}
	return l, nil
}

// UnmarshalJSON takes a JSON array, or null (unset); anything else is an error.
func (l *JSONList) UnmarshalJSON(b []byte) error {
	v, err := compactOf(b, '[')
	*l = v
	return err
}

func compactOf(b []byte, open byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil, nil
	}
	if len(b) == 0 || b[0] != open {
		return nil, errors.New("wrong JSON type")
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// AssistantProfile holds an assistant's Insighto fields beyond the typed ones
// of Assistant.
type AssistantProfile struct {
	ConversationFlowID *string `json:"conversation_flow_id"`
	CustomVoice        *string `json:"custom_voice"`
	HasHumanAgent      *bool   `json:"has_human_agent"`
	HideDS             *bool   `json:"hide_ds"`
	ShowImages         *bool   `json:"show_images"`
	UseTools           *bool   `json:"use_tools"`
}

// WidgetProfile holds a widget's Insighto fields: its look (colours, icons,
// texts), opening messages and action buttons.
type WidgetProfile struct {
	ActionButtons             JSONList   `json:"action_buttons"`
	ActionButtonsColor        *string    `json:"action_buttons_color"`
	Attributes                JSONObject `json:"attributes"`
	BotIconColor              *string    `json:"bot_icon_color"`
	BotMessageColor           *string    `json:"bot_message_color"`
	BotTextMessageColor       *string    `json:"bot_text_message_color"`
	BubbleBotIcon             *string    `json:"bubble_bot_icon"`
	BubbleColor               *string    `json:"bubble_color"`
	BubbleText                *string    `json:"bubble_text"`
	ConversationBotIcon       *string    `json:"conversation_bot_icon"`
	Description               *string    `json:"description"`
	DisplayName               *string    `json:"display_name"`
	HeaderColor               *string    `json:"header_color"`
	HeaderTextColor           *string    `json:"header_text_color"`
	IceBreakColor             *string    `json:"ice_break_color"`
	IntroMessage              *string    `json:"intro_message"`
	ProviderUserFriendlyLabel *string    `json:"provider_user_friendly_label"`
	RemoveBranding            *bool      `json:"remove_branding"`
	StyleParams               JSONObject `json:"style_params"`
	TextboxDefaultText        *string    `json:"textbox_default_text"`
	UserMessageColor          *string    `json:"user_message_color"`
	UserOpeningMessages       []string   `json:"user_opening_messages"`
	UserTextMessageColor      *string    `json:"user_text_message_color"`
	WidgetProvider            *string    `json:"widget_provider"`
}

// IntentProfile holds an intent's Insighto fields beyond name and description.
type IntentProfile struct {
	Attributes JSONObject `json:"attributes"`
	IntentType *string    `json:"intent_type"`
	IsActive   *bool      `json:"is_active"` // nil reads as true
}

// ContactProfile holds the contact fields a client sets beyond names, email
// and phone number.
type ContactProfile struct {
	Channels       JSONList   `json:"channels"`
	CustomFields   JSONObject `json:"custom_fields"`
	UserAttributes JSONObject `json:"user_attributes"`
}

// ApplyProfile sets the fields of profile (a pointer to one of the profile
// structs) that set names, from their JSON values: null clears a field, the
// others stay. The values were checked by the caller (the API's decoder).
func ApplyProfile(profile any, set map[string]json.RawMessage) error {
	if len(set) == 0 {
		return nil
	}
	b, err := json.Marshal(set)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, profile)
}
