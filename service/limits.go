package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/agenthooks/agenthooks"
)

// Size limits of what one account can make the platform store and send
// (docs/security.md): each bounds a field that every later event copies.
const (
	// MaxObjectBytes bounds a conversation's attributes and a captured
	// form's field_values, as compact JSON.
	MaxObjectBytes = 16 << 10
	// MaxObjectDepth bounds how deeply attributes and field_values nest
	// (the object itself is level 1).
	MaxObjectDepth = 16
	// MaxHeaders is the most extra request headers a webhook may set.
	MaxHeaders = 20
	// MaxHeaderBytes bounds a webhook's extra headers, names and values
	// added up.
	MaxHeaderBytes = 4 << 10
	// MaxNameChars bounds every name (webhook, assistant, widget, form,
	// form field, intent, API key), in characters.
	MaxNameChars = maxNameLen
	// MaxDescriptionBytes bounds every description.
	MaxDescriptionBytes = 4 << 10
	// MaxFreeTextBytes bounds every other free-text field that has no
	// bound of its own.
	MaxFreeTextBytes = 16 << 10
)

// CheckName refuses an empty name or one over MaxNameChars characters, as a
// 422 on loc (a field name, or a path such as "fields", 2, "name").
func CheckName(loc ...any) func(name string) error {
	return func(name string) error {
		if strings.TrimSpace(name) == "" {
			return agenthooks.InvalidAt("String should have at least 1 character", "string_too_short", loc...)
		}
		if utf8.RuneCountInString(name) > MaxNameChars {
			return agenthooks.InvalidAt(fmt.Sprintf("String should have at most %d characters", MaxNameChars), "string_too_long", loc...)
		}
		return nil
	}
}

// CheckDescription refuses a description over MaxDescriptionBytes, as a 422
// on field.
func CheckDescription(field, s string) error { return CheckBytes(s, MaxDescriptionBytes, field) }

// CheckFreeText refuses a free-text value over MaxFreeTextBytes, as a 422
// on field.
func CheckFreeText(field, s string) error { return CheckBytes(s, MaxFreeTextBytes, field) }

// CheckBytes refuses s when it is longer than n bytes, as a 422 on loc.
func CheckBytes(s string, n int, loc ...any) error {
	if len(s) > n {
		return agenthooks.InvalidAt(fmt.Sprintf("String should have at most %d bytes", n), "string_too_long", loc...)
	}
	return nil
}

// checkObject refuses a JSON object (compact) over MaxObjectBytes or nested
// deeper than MaxObjectDepth, as a 422 on field.
func checkObject(field string, raw []byte) error {
	if len(raw) > MaxObjectBytes {
		return agenthooks.Invalid(field, fmt.Sprintf("Object should be at most %d bytes of JSON", MaxObjectBytes), "too_long")
	}
	if JSONDepth(raw) > MaxObjectDepth {
		return agenthooks.Invalid(field, fmt.Sprintf("Object should be nested at most %d levels deep", MaxObjectDepth), "too_deep")
	}
	return nil
}

// checkValues is checkObject for decoded field values.
func checkValues(field string, values map[string]any) error {
	b, err := compactJSON(values)
	if err != nil {
		return agenthooks.Invalid(field, "Input should be a valid dictionary", "dict_type")
	}
	return checkObject(field, b)
}

// compactJSON encodes v as compact JSON without HTML escaping, the way
// payload encodes it for receivers.
func compactJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// JSONDepth returns how deeply the objects and arrays of a JSON text nest
// (0 for a scalar, 1 for {} or []), without decoding it: a scan of its
// brackets outside strings. It is meant for text already known to be valid.
func JSONDepth(raw []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// ReencryptSecrets seals every webhook's secrets with the store's current
// key (agenthooks migrate --reencrypt), in batches, and returns how many
// webhooks it rewrote. Run it after putting a new key first in
// AGENTHOOKS_ENCRYPTION_KEY, before dropping the old one.
func (s *Service) ReencryptSecrets(ctx context.Context) (int, error) {
	total, after := 0, ""
	for {
		var n int
		var last string
		err := s.store.Write(ctx, func(tx agenthooks.Tx) error {
			var err error
			n, last, err = tx.ReencryptSecrets(after, reencryptBatch)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("reencrypt secrets: %w", err)
		}
		total += n
		if last == "" {
			return total, nil
		}
		after = last
	}
}

const reencryptBatch = 200
