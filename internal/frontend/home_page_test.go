package frontend

import (
	"testing"

	"github.com/pillars-o11y/pillars/internal/backend"
)

func TestPrefersHTML(t *testing.T) {
	for _, tc := range []struct {
		accept string
		html   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"text/html", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true}, // Firefox, Chrome
		{"application/json, text/html;q=0.5", false},
		{"text/html;q=0.5, application/json;q=0.4", true},
		{"text/*, application/json;q=0.1", true},
		{"text/html;q=0, */*", false},
		{"TEXT/HTML", true},
		{"text/html; level=1; q=0.2, */*;q=0.1", true},
		{"garbage", false},
	} {
		if got := prefersHTML(tc.accept); got != tc.html {
			t.Errorf("prefersHTML(%q) = %v, want %v", tc.accept, got, tc.html)
		}
	}
}

func TestTopProductLinks(t *testing.T) {
	links := topProductLinks([]backend.TopProduct{
		{ProductID: 7, Name: "Desk"},
		{ProductID: 2000, Name: "Far"}, // outside the seeded range
		{ProductID: 0, Name: "None"},
	}, 1000)
	if len(links) != 1 || links[0] != (productLink{7, "Desk"}) {
		t.Errorf("links %v, want Desk (7) only", links)
	}
}
