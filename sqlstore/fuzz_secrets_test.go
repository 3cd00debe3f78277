package sqlstore

import (
	"bytes"
	"testing"
)

// FuzzKeyringOpen: any stored value opens to itself (plain), to the secret
// sealed (sealed by this ring for this webhook), or fails; it never panics,
// and a value sealed for one webhook never opens for another.
func FuzzKeyringOpen(f *testing.F) {
	k, err := NewKeyring([][]byte{bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		f.Fatal(err)
	}
	sealed, _ := k.Seal("w1", "whsec_abc")
	for _, s := range []string{sealed, "whsec_abc", "", "enc:v1:", "enc:v1:x:", "enc:v1:" + sealed[7:16] + "AAAA", sealed + "x"} {
		f.Add("w1", s)
	}
	f.Fuzz(func(t *testing.T, id, stored string) {
		got, err := k.Open(id, stored)
		if err != nil {
			return
		}
		if len(stored) < len(sealedPrefix) || stored[:len(sealedPrefix)] != sealedPrefix {
			if got != stored {
				t.Fatalf("plain %q opened to %q", stored, got)
			}
			return
		}
		again, err := k.Seal(id, got)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := k.Open(id, again); err != nil || back != got {
			t.Fatalf("reseal of %q: %q, %v", got, back, err)
		}
		if _, err := k.Open(id+"x", again); err == nil {
			t.Fatalf("sealed for %q, opened for %q", id, id+"x")
		}
	})
}
