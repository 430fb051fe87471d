package frontend

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

const (
	browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	// exploreTemplate is the shape of compose's: Grafana Explore on the Tempo data source.
	exploreTemplate = "http://127.0.0.1:3000/explore?schemaVersion=1&orgId=1&panes=%7B%22t%22%3A%7B%22datasource%22%3A%22tempo%22%2C" +
		"%22queries%22%3A%5B%7B%22refId%22%3A%22A%22%2C%22queryType%22%3A%22traceql%22%2C%22query%22%3A%22{trace_id}%22%7D%5D%7D%7D"
)

// A browser gets the user and product pages in HTML, drawn from the real backend's answer, with
// the page's trace id linked through the template; anything else still gets JSON.
func TestUserAndProductPagesForBrowsers(t *testing.T) {
	fe := newTestFrontend(t, startRealBackend(t), Config{TraceURLTemplate: exploreTemplate})
	for _, tc := range []struct {
		path string
		want []string // in the page
	}{
		{"/user/123", []string{`<h1>Frances Pike</h1>`, `frances.pike123@example.com`, `$1,193.10`, `<title>Frances Pike · pillars</title>`}},
		{"/product/42", []string{`Product 42 ·`, `Stock by warehouse`, `<dt>Price</dt>`}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, http.DefaultClient, fe.URL+tc.path, browserAccept)
			traceID, _ := traceResponse(t, resp.Header)
			page := string(body)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("status %d, type %q: want a 200 HTML page\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
			}
			href := strings.ReplaceAll(strings.ReplaceAll(exploreTemplate, TraceIDPlaceholder, traceID), "&", "&amp;")
			want := append(tc.want, `<code id="trace-id">`+traceID+`</code>`, `<a id="trace-link" href="`+href+`">`)
			for _, w := range want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %s:\n%s", w, page)
				}
			}
			if strings.Contains(page, "pillars trace ") {
				t.Errorf("page shows the command although a template links the trace:\n%s", page)
			}
			if resp.Header.Get("Vary") != "Accept" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
				t.Errorf("Vary %q, Content-Security-Policy %q", resp.Header.Get("Vary"), resp.Header.Get("Content-Security-Policy"))
			}

			resp, body = get(t, http.DefaultClient, fe.URL+tc.path, "")
			var answer map[string]any
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &answer) != nil || answer["trace_id"] == nil {
				t.Errorf("without Accept: %q %s, want the JSON answer", resp.Header.Get("Content-Type"), body)
			}
		})
	}
}

// Without a template every page shows the command that prints its trace.
func TestPagesShowTheTraceCommandWithoutATemplate(t *testing.T) {
	fe := newTestFrontend(t, newFakeBackend(t, 0, 0).URL, Config{})
	for _, path := range []string{"/", "/user/7", "/product/7"} {
		resp, body := get(t, http.DefaultClient, fe.URL+path, browserAccept)
		traceID, _ := traceResponse(t, resp.Header)
		want := `<code id="trace-command" class="copy">pillars trace ` + traceID + `</code>`
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) || strings.Contains(string(body), "trace-link") {
			t.Errorf("%s: %d, want %s and no link:\n%s", path, resp.StatusCode, want, body)
		}
	}
}

// Every page draws from the same layout, and every asset it names is served, with its type;
// an unknown asset is a JSON 404 like any unknown path.
func TestPagesAndTheirAssets(t *testing.T) {
	fe := newTestFrontend(t, newFakeBackend(t, 0, 0).URL, Config{})
	assets := map[string]bool{}
	for _, path := range []string{"/", "/user/7", "/product/7", "/console"} {
		resp, body := get(t, http.DefaultClient, fe.URL+path, browserAccept)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<nav aria-label="Site">`) {
			t.Errorf("%s: %d, want a page of the layout:\n%s", path, resp.StatusCode, body)
		}
		for _, m := range regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`).FindAllStringSubmatch(string(body), -1) {
			assets[m[1]] = true
		}
	}
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
	if len(assets) != 3 {
		t.Errorf("pages name assets %v, want the stylesheet, the script and the icon", assets)
	}
	for a := range assets {
		resp, body := get(t, http.DefaultClient, fe.URL+a, "")
		ext := a[strings.LastIndex(a, "."):strings.Index(a, "?")]
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != types[ext] || len(body) == 0 {
			t.Errorf("%s: %d %q, %d bytes", a, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	for _, path := range []string{"/assets/nope.js", "/assets/", "/assets/../service.go"} {
		resp, err := http.Get(fe.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"status":404`) {
			t.Errorf("%s: %d %s, want a JSON 404", path, resp.StatusCode, body)
		}
	}
}

func TestCheckTraceURLTemplate(t *testing.T) {
	for tmpl, ok := range map[string]bool{
		"":              true,
		exploreTemplate: true,
		"https://jaeger.example/trace/{trace_id}":                   true,
		"http://127.0.0.1:16686/api/traces/{trace_id}?x={trace_id}": true,
		"https://jaeger.example/trace/":                             false,
		"jaeger.example/{trace_id}":                                 false,
		"javascript:alert({trace_id})":                              false,
		"http:///{trace_id}":                                        false,
	} {
		if err := CheckTraceURLTemplate(tmpl); (err == nil) != ok {
			t.Errorf("CheckTraceURLTemplate(%q) = %v, want ok %v", tmpl, err, ok)
		}
	}
	if _, err := New(t.Context(), Config{BackendURL: "http://127.0.0.1:1", TraceURLTemplate: "ftp://x/{trace_id}"},
		telemetrytest.New(t, "frontend").Telemetry); err == nil || !strings.Contains(err.Error(), "is not an http:// or https:// URL") {
		t.Errorf("New with an ftp template: %v", err)
	}
}

func TestMoney(t *testing.T) {
	for cents, want := range map[int64]string{0: "$0.00", 5: "$0.05", 119310: "$1,193.10", 100000000: "$1,000,000.00", -250: "-$2.50"} {
		if got := money(cents); got != want {
			t.Errorf("money(%d) = %q, want %q", cents, got, want)
		}
	}
}
