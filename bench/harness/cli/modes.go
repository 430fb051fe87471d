package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/load"
	"github.com/pillars-o11y/pillars/bench/harness/relay"
	"github.com/pillars-o11y/pillars/bench/harness/sink"
)

// runLoad is the load process: one run, described by --spec (JSON), reported on stdout as
// JSON lines: {"event":"start"}, {"event":"end"}, then {"event":"result",...}.
func runLoad(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specJSON := fs.String("spec", "", "the run, as JSON (see load.Spec)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var spec load.Spec
	if err := json.Unmarshal([]byte(*specJSON), &spec); err != nil {
		return fmt.Errorf("--spec: %w", err)
	}
	var mu sync.Mutex
	enc := json.NewEncoder(stdout)
	emit := func(v any) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(v)
	}
	res, err := load.Run(ctx, spec, func(e string) { emit(map[string]string{"event": e}) })
	if err != nil {
		emit(map[string]string{"event": "error", "error": err.Error()})
		return err
	}
	emit(map[string]any{"event": "result", "result": res})
	// Stay until the harness has read what it needs from /proc and closes stdin.
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}

// runSink is the telemetry sink process.
func runSink(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	scrape := fs.String("scrape", "", "comma-separated /metrics URLs to scrape")
	interval := fs.Duration("scrape-interval", 5*time.Second, "scrape interval")
	tracesUp := fs.String("forward-traces", "", "OTLP/HTTP base URL to forward spans to (default: discard)")
	lokiUp := fs.String("forward-loki", "", "Loki push URL to forward logs to (default: discard)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := sink.New(*tracesUp, *lokiUp)
	if err != nil {
		return err
	}
	if *scrape != "" {
		go s.Scrape(ctx, strings.Split(*scrape, ","), *interval)
	}
	return serve(ctx, *addr, s)
}

// runRelay is one relay hop.
func runRelay(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	next := fs.String("next", "", "the next hop's base URL; empty makes this the last hop")
	var bodies bodyFlags
	fs.Var(&bodies, "body", "last hop: PREFIX=FILE, the answer to paths under PREFIX (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var h http.Handler
	if *next != "" {
		h = relay.Hop(*next, relay.NewClient())
	} else {
		m := map[string][]byte{}
		for prefix, file := range bodies {
			b, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			m[prefix] = b
		}
		h = relay.Last(m)
	}
	return serve(ctx, *addr, h)
}

type bodyFlags map[string]string

func (b *bodyFlags) String() string { return fmt.Sprint(map[string]string(*b)) }
func (b *bodyFlags) Set(v string) error {
	prefix, file, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("want PREFIX=FILE")
	}
	if *b == nil {
		*b = bodyFlags{}
	}
	(*b)[prefix] = file
	return nil
}

// serve runs h until ctx is done (SIGTERM).
func serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
