// Package secrets encrypts credentials at rest (provider kubeconfigs) with
// AES-256-GCM under a key given to the server by its operator.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Box seals and opens secrets.
type Box struct {
	aead cipher.AEAD
}

// ParseKey reads a 32-byte key written as base64 or hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("the secrets key must be 32 bytes, written as base64 or hex (for example: openssl rand -base64 32)")
}

// NewBox returns a box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets key: need 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

const prefix = "v1:"

// Seal encrypts plain; aad binds the ciphertext to its owner (for example
// a provider id), so it cannot be moved to another record.
func (b *Box) Seal(plain, aad []byte) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := b.aead.Seal(nonce, nonce, plain, aad)
	return prefix + base64.StdEncoding.EncodeToString(ct), nil
}

// Open decrypts a sealed secret.
func (b *Box) Open(sealed string, aad []byte) ([]byte, error) {
	if !strings.HasPrefix(sealed, prefix) {
		return nil, errors.New("not a sealed secret")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	if err != nil {
		return nil, fmt.Errorf("sealed secret: %w", err)
	}
	n := b.aead.NonceSize()
	if len(raw) < n {
		return nil, errors.New("sealed secret too short")
	}
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], aad)
	if err != nil {
		return nil, errors.New("sealed secret does not open with this key (wrong key or tampered data)")
	}
	return plain, nil
}
