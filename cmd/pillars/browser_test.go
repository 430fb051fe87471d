//go:build browser

package main

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the real pages of `pillars all` in a real headless Chromium:
// `make browser` (part of `make test`). With -update-screenshot the console's test writes
// the README's screenshot, docs/console.png.
var updateScreenshot = flag.Bool("update-screenshot", false, "write the console's screenshot to docs/console.png")

// exploreTemplate is the trace URL template compose gives the frontend: Grafana Explore on the
// Tempo data source.
const exploreTemplate = "http://127.0.0.1:3000/explore?schemaVersion=1&orgId=1&panes=%7B%22trace%22%3A%7B%22datasource%22%3A%22tempo%22%2C" +
	"%22queries%22%3A%5B%7B%22refId%22%3A%22A%22%2C%22datasource%22%3A%7B%22type%22%3A%22tempo%22%2C%22uid%22%3A%22tempo%22%7D%2C" +
	"%22queryType%22%3A%22traceql%22%2C%22query%22%3A%22{trace_id}%22%7D%5D%2C%22range%22%3A%7B%22from%22%3A%22now-1h%22%2C%22to%22%3A%22now%22%7D%7D%7D"

// browser is a headless Chromium with one tab, and what the pages reported as errors.
type browser struct {
	ctx context.Context
	mu  sync.Mutex
	// problems are the pages' console errors, uncaught exceptions and the browser's own
	// error log entries (a refused stylesheet, a failed load, a CSP violation).
	problems []string
}

// chromium is the browser binary: $PILLARS_CHROMIUM, or Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PILLARS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: install Debian's chromium (apt-get install chromium) or set PILLARS_CHROMIUM")
	return ""
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // as root on a CI machine
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	b := &browser{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) { // starts the browser
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				b.report("console." + string(ev.Type) + ": " + strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			b.report("exception: " + ev.ExceptionDetails.Text + " " + exceptionText(ev.ExceptionDetails))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				b.report("log (" + string(ev.Entry.Source) + "): " + ev.Entry.Text + " " + ev.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatalf("starting %s: %v", chromium(t), err)
	}
	return b
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

func (b *browser) report(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, p)
}

// problemsBut returns the problems reported, less those containing one of allowed.
func (b *browser) problemsBut(allowed ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, p := range b.problems {
		if !slices.ContainsFunc(allowed, func(a string) bool { return strings.Contains(p, a) }) {
			out = append(out, p)
		}
	}
	return out
}

// do runs actions in the tab within d.
func (b *browser) do(t *testing.T, d time.Duration, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(t, what, err)
	}
}

// value runs an action that returns a value, within 10 s.
func value[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(t, what, err)
	}
	return v
}

func (b *browser) fail(t *testing.T, what string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
	t.Fatalf("%s: %v\nproblems: %v\npage: %s", what, err, b.problemsBut(), html)
}

// until waits for a JavaScript condition to hold on the page.
func until(cond string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(100*time.Millisecond))
}

// adminJSON calls the frontend's admin API as the command line does and decodes the answer.
func adminJSON(t *testing.T, method, url, token string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s", method, url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// recentRow is one row of the console's table of the traffic's last requests.
type recentRow struct {
	Path   string `json:"path"`
	Status string `json:"status"`
	Href   string `json:"href"`
	ID     string `json:"id"`
}

const recentRows = `[...document.querySelectorAll("#recent tbody tr")].map(tr => ({
	path: tr.cells[1] ? tr.cells[1].textContent : "",
	status: tr.cells[2] ? tr.cells[2].textContent : "",
	href: tr.querySelector("a.trace-link") ? tr.querySelector("a.trace-link").getAttribute("href") : "",
	id: tr.querySelector("a.trace-link") ? tr.querySelector("a.trace-link").textContent : ""}))`

// The console of a running `pillars all`, in a real browser: it loads without a console
// error, a click starts a scenario (the page and the admin API both say so, and the
// database's faults show), each of the traffic's requests links to its own trace, the
// controls steer the traffic and clear the faults, and a user page links its trace.
func TestBrowserConsole(t *testing.T) {
	s, _ := startAll(t, map[string]string{
		"PILLARS_TRAFFIC_RATE":       "5",
		"PILLARS_TRACE_URL_TEMPLATE": exploreTemplate,
	})
	fe := "http://" + s.frontend
	b := newBrowser(t)
	b.do(t, 20*time.Second, "the console loads",
		chromedp.Navigate(fe+"/console"),
		until(`document.body.dataset.loaded === "true" && document.querySelectorAll("#scenario-list button").length > 0`),
	)

	// Start a scenario with a click: the page shows it running, and so does the admin API.
	b.do(t, 20*time.Second, "starting slow-database by a click",
		chromedp.Click(chromedp.CSS(`#scenario-list button[data-scenario="slow-database"]`)),
		until(`(document.getElementById("scenario-active") || {}).textContent === "slow-database"`),
		until(`document.getElementById("faults-list").textContent.includes("latency=500ms")`),
	)
	var sc struct {
		Active   bool   `json:"active"`
		Scenario string `json:"scenario"`
	}
	adminJSON(t, http.MethodGet, fe+"/admin/scenario", "", &sc)
	if !sc.Active || sc.Scenario != "slow-database" {
		t.Errorf("GET /admin/scenario after the click: %+v, want slow-database active", sc)
	}
	var dbFaults map[string]any
	adminJSON(t, http.MethodGet, "http://"+s.database+"/admin/faults", "", &dbFaults)
	if dbFaults["latency"] != "500ms" {
		t.Errorf("the database's faults %v, want the scenario's latency", dbFaults)
	}

	// Every request of the traffic links to its own trace through the template.
	b.do(t, 20*time.Second, "the traffic's requests with their traces",
		until(`document.querySelectorAll("#recent a.trace-link").length >= 5`))
	rows := value(t, b, "the rows of the last requests", chromedp.Evaluate[[]recentRow](recentRows))
	var user *recentRow
	for i, r := range rows {
		if r.ID == "" || r.Href != strings.ReplaceAll(exploreTemplate, "{trace_id}", r.ID) {
			t.Errorf("request %s links %q for trace %q, want the template with its trace id", r.Path, r.Href, r.ID)
		}
		if user == nil && strings.HasPrefix(r.Path, "/user/") && r.Status == "200" {
			user = &rows[i]
		}
	}
	if user == nil {
		t.Fatalf("no user page answered 200 among the traffic's requests: %+v", rows)
	}
	s.trace(user.ID, "frontend_get_user", "backend_get_user") // the link names the real trace of that request

	// The live figures come from the services' metrics, and show the slow database.
	b.do(t, 40*time.Second, "live figures of the slow database",
		until(`[...document.querySelectorAll("#figures tbody tr")].length === 3 &&
			[...document.querySelectorAll("#figures tbody tr")].every(tr => /[0-9]/.test(tr.cells[1].textContent)) &&
			(p99 => / s$/.test(p99) || parseFloat(p99) >= 400)(document.querySelector("#figures tbody tr:last-child").cells[3].textContent)`),
	)
	if *updateScreenshot {
		// A picture of the incident under way: figures over a good part of their window.
		b.do(t, 40*time.Second, "figures over 15 s",
			until(`parseInt((document.getElementById("figures-note").textContent.match(/last ([0-9]+) s/) || [0, 0])[1]) >= 15`))
		png := value(t, b, "the screenshot", chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "console.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Stop it with a click: the page and the admin API say it stopped, its faults are off.
	b.do(t, 20*time.Second, "stopping the scenario by a click",
		chromedp.Click(chromedp.ID("scenario-stop")),
		until(`document.getElementById("scenario-none") !== null`),
		until(`!document.getElementById("faults-list").textContent.includes("latency=")`),
	)
	adminJSON(t, http.MethodGet, fe+"/admin/scenario", "", &sc)
	if sc.Active {
		t.Errorf("GET /admin/scenario after stopping: %+v", sc)
	}

	// The traffic form changes the traffic through /admin/traffic.
	b.do(t, 20*time.Second, "changing the rate",
		chromedp.SetValue(chromedp.ID("traffic-rate"), "7"),
		chromedp.Click(chromedp.CSS(`#traffic-form button[type="submit"]`)),
		until(`document.getElementById("traffic-rate-now").textContent === "7.0 req/s"`),
	)
	var tr struct {
		Rate float64 `json:"rate"`
	}
	adminJSON(t, http.MethodGet, fe+"/admin/traffic", "", &tr)
	if tr.Rate != 7 {
		t.Errorf("GET /admin/traffic after the form: rate %v, want 7", tr.Rate)
	}

	// Clear all faults: set on the backend behind the page's back, cleared by the button.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, "http://"+s.backend+"/admin/faults", strings.NewReader(`{"cache_off":true}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT backend faults: %v", err)
	}
	b.do(t, 20*time.Second, "clearing every fault",
		until(`document.getElementById("faults-list").textContent.includes("cache_off=true")`),
		chromedp.Click(chromedp.ID("clear-faults")),
		until(`!document.getElementById("faults-list").textContent.includes("cache_off")`),
	)
	var beFaults map[string]any
	adminJSON(t, http.MethodGet, "http://"+s.backend+"/admin/faults", "", &beFaults)
	if beFaults["cache_off"] != false {
		t.Errorf("backend faults after clearing: %v", beFaults)
	}

	// A user page, as a browser asks for it, links its own trace.
	b.do(t, 20*time.Second, "the user page", chromedp.Navigate(fe+"/user/123"))
	traceID := value(t, b, "the user page's trace id", chromedp.Text(chromedp.ID("trace-id")))
	link := value(t, b, "the user page's trace link", chromedp.AttributeValue(chromedp.ID("trace-link"), "href"))
	if want := strings.ReplaceAll(exploreTemplate, "{trace_id}", traceID); !link.Exists || link.Value != want {
		t.Errorf("user page's trace link %q, want %q", link.Value, want)
	}
	s.trace(traceID, "frontend_get_user")

	if p := b.problemsBut(); len(p) > 0 {
		t.Errorf("the pages reported errors:\n%s", strings.Join(p, "\n"))
	}
}

// With an admin token the console asks for it once, keeps it in the tab and sends it; the
// pages need none. Without a template, trace ids come with the command that prints them.
func TestBrowserConsoleAsksForTheToken(t *testing.T) {
	const token = "browser-test-token"
	s, _ := startAll(t, map[string]string{"PILLARS_TRAFFIC_RATE": "5", "PILLARS_ADMIN_TOKEN": token})
	fe := "http://" + s.frontend
	b := newBrowser(t)
	b.do(t, 20*time.Second, "the console asks for the token",
		chromedp.Navigate(fe+"/console"),
		chromedp.WaitVisible(chromedp.ID("token-input")),
	)
	if !value(t, b, "the panels", chromedp.Evaluate[bool](`document.getElementById("panels").hidden`)) {
		t.Error("the panels show before the token is given")
	}
	b.do(t, 20*time.Second, "the token is used",
		chromedp.SendKeys(chromedp.ID("token-input"), "wrong"),
		chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`)),
		until(`document.getElementById("message").textContent.startsWith("That token was refused")`),
		chromedp.SendKeys(chromedp.ID("token-input"), token),
		chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`)),
		until(`document.body.dataset.loaded === "true" && !document.getElementById("panels").hidden`),
		until(`document.querySelectorAll("#recent code.copy").length > 0`),
		// A reload keeps the token: nothing is asked again.
		chromedp.Reload(),
		until(`document.body.dataset.loaded === "true" && document.getElementById("token-form").hidden`),
		until(`document.querySelectorAll("#recent code.copy").length > 0`),
	)
	command := value(t, b, "a trace command", chromedp.Text(chromedp.CSS("#recent code.copy")))
	if id, ok := strings.CutPrefix(command, "pillars trace "); !ok || len(id) != 32 {
		t.Errorf("trace of a request without a template: %q, want the pillars trace command", command)
	}
	if got := value(t, b, "the stored token", chromedp.Evaluate[string](`sessionStorage.getItem("pillars-admin-token")`)); got != token {
		t.Errorf("session storage holds %q", got)
	}
	// A blind scenario, with the token: unnamed until revealed, then named as the API names it.
	b.do(t, 20*time.Second, "a blind scenario, revealed",
		chromedp.Click(chromedp.ID("scenario-blind")),
		until(`(document.getElementById("scenario-active") || {}).textContent === "hidden"`),
		chromedp.Click(chromedp.ID("scenario-reveal")),
		until(`document.getElementById("message").textContent.startsWith("It is ")`),
	)
	var revealed struct {
		Scenario string `json:"scenario"`
		Active   bool   `json:"active"`
	}
	adminJSON(t, http.MethodGet, fe+"/admin/scenario/reveal", token, &revealed)
	if msg := value(t, b, "the message", chromedp.Text(chromedp.ID("message"))); !revealed.Active || !strings.HasPrefix(msg, "It is "+revealed.Scenario+":") {
		t.Errorf("the page says %q, the API reveals %+v", msg, revealed)
	}
	b.do(t, 20*time.Second, "the blind scenario stopped",
		until(`(document.getElementById("scenario-active") || {}).textContent === `+strconv.Quote(revealed.Scenario)),
		chromedp.Click(chromedp.ID("scenario-stop")),
		until(`document.getElementById("scenario-none") !== null`),
	)

	// The calls refused before the token was given are the browser's 401 log entries.
	if p := b.problemsBut("status of 401"); len(p) > 0 {
		t.Errorf("the console reported errors:\n%s", strings.Join(p, "\n"))
	}
}
