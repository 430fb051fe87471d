package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// adminToken is the token the admin endpoints require: the one given, or the one kept in file.
// When the file does not exist yet it is created with a random token, so that services
// sharing the file (compose: a volume) share a token nobody had to choose or write down.
func adminToken(given, file string, create bool) (string, error) {
	if given != "" || file == "" {
		return given, nil
	}
	if tok, err := readToken(file); err == nil || !errors.Is(err, fs.ErrNotExist) || !create {
		return tok, err
	}
	// Written aside and linked into place: a service starting at the same moment reads either
	// no file or the whole token, never half of one, and only one token ever wins.
	tmp, err := os.CreateTemp(filepath.Dir(file), ".admin-token-*")
	if err != nil {
		return "", fmt.Errorf("--admin-token-file %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(rand.Text() + "\n")
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Close()); err != nil {
		return "", fmt.Errorf("--admin-token-file %s: %w", file, err)
	}
	if err := os.Link(tmp.Name(), file); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("--admin-token-file %s: %w", file, err)
	}
	return readToken(file)
}

func readToken(file string) (string, error) {
	var tok string
	for range 10 { // a file just linked by another service is whole; this is for editors' saves
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--admin-token-file %s: %w", file, err)
		}
		if tok = strings.TrimSpace(string(b)); tok != "" {
			return tok, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", fmt.Errorf("--admin-token-file %s is empty", file)
}
