package main

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Services that start together with one token file all end up with the same token, created
// once, readable by its owner only; a token given on the command line wins; a reader that
// may not create the file says it is missing.
func TestAdminTokenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "admin-token")
	if _, err := adminToken("", file, false); err == nil {
		t.Error("a missing file read without create: no error")
	}
	tokens := make([]string, 8)
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() {
			tok, err := adminToken("", file, true)
			if err != nil {
				t.Error(err)
			}
			tokens[i] = tok
		})
	}
	wg.Wait()
	for _, tok := range tokens {
		if tok != tokens[0] || len(tok) < 20 {
			t.Fatalf("tokens %q: want one shared token of 20 characters or more", tokens)
		}
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token file %v, %v: want mode 0600", st, err)
	}
	if tok, err := adminToken("given", file, true); err != nil || tok != "given" {
		t.Errorf("a given token: %q, %v", tok, err)
	}
	if tok, err := adminToken("", file, false); err != nil || tok != tokens[0] {
		t.Errorf("read again: %q, %v", tok, err)
	}
}
