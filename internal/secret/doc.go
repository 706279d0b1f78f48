// Package secret owns the encryption of device credentials at rest: the Value type that
// carries a plaintext secret in memory, the Keyring of AES-256 keys (from WEBNET_SECRET_KEY or
// the key file in the data directory), the ciphertext format, and the key rotation that lets
// old values be found and re-encrypted under a new key.
//
// A ciphertext is: version byte (0x01), key id byte, then AES-256-GCM's random 96-bit nonce,
// the encrypted bytes and the 16-byte tag. The additional data binds it to the version, the key
// id and where it is stored (AAD), so bytes moved to another row, column or customer, or
// relabelled with another key id, fail to decrypt.
//
// The keyring also makes MACs (Keyring.MAC, CheckMAC) for values webnet hands out and must
// recognise later, such as signed firmware URLs, under keys derived per purpose (mac.go).
//
// The package must never log, print or return plaintext or key material, except through
// Value.Reveal; its errors say what went wrong (version, key id, authentication, which line of
// the key file) and carry neither. It does no database work: callers store the bytes, and a
// rotation pass uses NeedsReencrypt, Decrypt and Encrypt to move values to the current key.
package secret
