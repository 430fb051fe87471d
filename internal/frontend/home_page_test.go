package frontend

import "testing"

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
	links := topProductLinks([]map[string]any{
		{"id": 7.0, "name": "Desk"},
		{"id": 8.0},              // no name: a generic one
		{"id": 2000.0},           // outside the seeded range
		{"id": "9", "name": "x"}, // not a number
		{"sku": "A-1"},           // another shape
	}, 1000)
	if len(links) != 2 || links[0] != (productLink{7, "Desk"}) || links[1] != (productLink{8, "Product 8"}) {
		t.Errorf("links %v, want Desk (7) and Product 8", links)
	}
}
