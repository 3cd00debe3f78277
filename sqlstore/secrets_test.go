package sqlstore

import (
	"bytes"
	"strings"
	"testing"
)

func TestKeyring(t *testing.T) {
	t.Parallel()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	ring := func(t *testing.T, keys ...[]byte) *Keyring {
		t.Helper()
		k, err := NewKeyring(keys)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	const secret = "whsec_c2VjcmV0IHNlY3JldCBzZWNyZXQ="

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		k := ring(t, k1)
		sealed, err := k.Seal("w1", secret)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sealed, sealedPrefix) || strings.Contains(sealed, secret) || strings.Contains(sealed, "c2VjcmV0") {
			t.Fatalf("sealed form %q", sealed)
		}
		again, _ := k.Seal("w1", secret)
		if again == sealed {
			t.Error("two seals of one secret are equal: the nonce is not random")
		}
		if got, err := k.Open("w1", sealed); err != nil || got != secret {
			t.Fatalf("Open = %q, %v", got, err)
		}
		if !k.current(sealed) {
			t.Error("a value sealed with the first key is not current")
		}
	})
	t.Run("EmptyStaysEmpty", func(t *testing.T) {
		t.Parallel()
		if s, err := ring(t, k1).Seal("w1", ""); err != nil || s != "" {
			t.Fatalf("Seal(\"\") = %q, %v", s, err)
		}
	})
	t.Run("PlainReadsAsIs", func(t *testing.T) {
		t.Parallel()
		for _, k := range []*Keyring{nil, ring(t, k1)} {
			if got, err := k.Open("w1", secret); err != nil || got != secret {
				t.Fatalf("Open(plain) = %q, %v", got, err)
			}
		}
		if ring(t, k1).current(secret) {
			t.Error("a plain value is current under a key")
		}
		if !(*Keyring)(nil).current(secret) {
			t.Error("a plain value is not current without keys")
		}
	})
	t.Run("NoKeys", func(t *testing.T) {
		t.Parallel()
		k := ring(t)
		if k != nil {
			t.Fatal("no keys: want a nil keyring")
		}
		if s, _ := k.Seal("w1", secret); s != secret {
			t.Fatalf("nil keyring sealed %q", s)
		}
		sealed, _ := ring(t, k1).Seal("w1", secret)
		if _, err := k.Open("w1", sealed); err == nil {
			t.Fatal("a sealed value opened without keys")
		}
	})
	t.Run("Rotation", func(t *testing.T) {
		t.Parallel()
		old, _ := ring(t, k1).Seal("w1", secret)
		k := ring(t, k2, k1)
		if got, err := k.Open("w1", old); err != nil || got != secret {
			t.Fatalf("the old key does not open: %q, %v", got, err)
		}
		if k.current(old) {
			t.Error("a value under the second key is current")
		}
		if _, err := ring(t, k2).Open("w1", old); err == nil {
			t.Error("a value opened without its key")
		}
	})
	t.Run("BoundToItsWebhook", func(t *testing.T) {
		t.Parallel()
		k := ring(t, k1)
		sealed, _ := k.Seal("w1", secret)
		if _, err := k.Open("w2", sealed); err == nil {
			t.Fatal("a secret copied onto another webhook opened there")
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		t.Parallel()
		k := ring(t, k1)
		sealed, _ := k.Seal("w1", secret)
		for _, bad := range []string{sealed[:len(sealed)-2] + "AA", sealedPrefix + "nokey", sealed[:len(sealedPrefix)+9] + "!!", sealedPrefix + sealed[len(sealedPrefix):len(sealedPrefix)+9]} {
			if _, err := k.Open("w1", bad); err == nil {
				t.Errorf("Open(%q) succeeded", bad)
			}
		}
	})
	t.Run("BadKey", func(t *testing.T) {
		t.Parallel()
		if _, err := NewKeyring([][]byte{make([]byte, 16)}); err == nil {
			t.Fatal("a 16-byte key was accepted")
		}
	})
}

func TestKeyringMissing(t *testing.T) {
	t.Parallel()
	k, err := NewKeyring([][]byte{bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := k.Seal("w", "s")
	own := strings.Split(strings.TrimPrefix(sealed, sealedPrefix), ":")[0]
	if m := k.Missing([]string{"", own}); len(m) != 0 {
		t.Errorf("Missing(plain, own) = %v", m)
	}
	if m := k.Missing([]string{own, "deadbeef"}); len(m) != 1 || m[0] != "deadbeef" {
		t.Errorf("Missing = %v, want [deadbeef]", m)
	}
	if m := (*Keyring)(nil).Missing([]string{"", own}); len(m) != 1 {
		t.Errorf("nil ring: Missing = %v, want [%s]", m, own)
	}
}
