package devsim

import (
	"math/rand/v2"
	"regexp"
	"strings"
)

// Hashed and obfuscated secrets in configurations. Real devices print most of them the same
// on every read, but some (Junos $9$, re-encrypted type 7 keys) do change, and backup code must
// mask them either way; the simulator re-salts all of them on every read so that masking is
// always exercised. The hashes have the real formats' shapes but are not verifiable.
var (
	cryptRE = regexp.MustCompile(`\$[15689]\$[^\s";]+`)
	type7RE = regexp.MustCompile(`\b((?:password|key) 7 )([0-9A-F]{4,})`)
)

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// resalt returns text with every hashed secret replaced by another of the same shape.
func resalt(text string, r *rand.Rand) string {
	text = cryptRE.ReplaceAllStringFunc(text, func(h string) string {
		b := []byte(h)
		for i := 3; i < len(b); i++ { // keep "$N$" and the separators' positions
			if b[i] != '$' {
				b[i] = cryptAlphabet[r.IntN(len(cryptAlphabet))]
			}
		}
		return string(b)
	})
	return type7RE.ReplaceAllStringFunc(text, func(m string) string {
		sub := type7RE.FindStringSubmatch(m)
		const hexDigits = "0123456789ABCDEF"
		b := []byte(sub[2])
		off := r.IntN(16)
		b[0], b[1] = byte('0'+off/10), byte('0'+off%10)
		for i := 2; i < len(b); i++ {
			b[i] = hexDigits[r.IntN(16)]
		}
		return sub[1] + string(b)
	})
}

// fakeCrypt makes a deterministic hashed secret of the shape "$id$<salt>$<hash>".
func fakeCrypt(r *rand.Rand, id string, saltLen, hashLen int) string {
	var b strings.Builder
	b.WriteString("$" + id + "$")
	for range saltLen {
		b.WriteByte(cryptAlphabet[r.IntN(len(cryptAlphabet))])
	}
	b.WriteByte('$')
	for range hashLen {
		b.WriteByte(cryptAlphabet[r.IntN(len(cryptAlphabet))])
	}
	return b.String()
}

// fakeType7 makes a deterministic Cisco type 7 string for a secret of n characters.
func fakeType7(r *rand.Rand, n int) string {
	const hexDigits = "0123456789ABCDEF"
	off := r.IntN(16)
	b := []byte{byte('0' + off/10), byte('0' + off%10)}
	for range 2 * n {
		b = append(b, hexDigits[r.IntN(16)])
	}
	return string(b)
}

// noiseLocked returns the random source for the next read's noise: deterministic from the
// seed and the number of reads so far, so that two fleets of one seed read alike.
func (d *Device) noiseLocked() *rand.Rand {
	d.reads++
	return rand.New(rand.NewPCG(d.f.cfg.Seed^0x9e3779b97f4a7c15, uint64(d.index)<<32|d.reads))
}

// Time layouts of the platforms' outputs.
const (
	iosTime   = "15:04:05 MST Mon Jan 2 2006"
	eosTime   = "Mon Jan _2 15:04:05 2006"
	junosTime = "2006-01-02 15:04:05 MST"
)
