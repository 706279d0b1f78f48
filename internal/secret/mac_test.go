package secret

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

func TestMACChecksAcrossProcessesAndRotation(t *testing.T) {
	dir := t.TempDir()
	k, err := LoadKeyring(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("42\x00cat9k.bin\x001767225600")
	mac := k.MAC("firmware url", msg)
	if len(mac) != sha256.Size || !k.CheckMAC("firmware url", msg, mac) {
		t.Fatalf("a MAC does not check: %x", mac)
	}
	// Another process with the same key file checks it; a different keyring does not.
	same, err := LoadKeyring(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !same.CheckMAC("firmware url", msg, mac) {
		t.Fatal("the same keys, another keyring: refused")
	}
	other, _ := LoadKeyring(t.TempDir(), "")
	if other.CheckMAC("firmware url", msg, mac) {
		t.Fatal("another keyring accepted the MAC")
	}
	// Another purpose, message or MAC is refused.
	bad := bytes.Clone(mac)
	bad[0] ^= 1
	for name, ok := range map[string]bool{
		"another purpose": k.CheckMAC("session", msg, mac),
		"another message": k.CheckMAC("firmware url", append(bytes.Clone(msg), '1'), mac),
		"altered MAC":     k.CheckMAC("firmware url", msg, bad),
		"truncated MAC":   k.CheckMAC("firmware url", msg, mac[:16]),
		"no MAC":          k.CheckMAC("firmware url", msg, nil),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	// The MAC is not keyed with the credential key itself.
	raw := hmac.New(sha256.New, k.keys[k.CurrentID()].raw)
	raw.Write(msg)
	if hmac.Equal(raw.Sum(nil), mac) {
		t.Fatal("the MAC is keyed with the credential key")
	}
	// After a rotation new MACs use the new key, and the old ones still check.
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(k.MAC("firmware url", msg), mac) {
		t.Fatal("the MAC did not change with the current key")
	}
	if !k.CheckMAC("firmware url", msg, mac) {
		t.Fatal("a MAC made before the rotation is refused")
	}
}
