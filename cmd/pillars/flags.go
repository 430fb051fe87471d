package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// flags is a FlagSet whose every flag can also come from an environment variable,
// PILLARS_ + the flag name in upper snake case. A flag on the command line wins over the
// variable, which wins over the default.
type flags struct {
	fs *flag.FlagSet
}

func newFlags(name, summary string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pillars %s [flags]\n\n%s\n\nFlags (each also read from the environment variable shown):\n", name, summary)
		fs.PrintDefaults()
		fmt.Fprint(stderr, otelHelp)
	}
	return &flags{fs: fs}
}

const otelHelp = `
Standard OpenTelemetry variables:
  OTEL_EXPORTER_OTLP_ENDPOINT         OTLP base URL (default http://localhost:4318, or :4317 for grpc)
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  full traces URL, used as is
  OTEL_EXPORTER_OTLP_PROTOCOL         http/protobuf (default) or grpc
  OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE  as the SDK reads them
  OTEL_SERVICE_NAME                   service.name on spans (single-service commands only)
  OTEL_RESOURCE_ATTRIBUTES            extra resource attributes, k=v,k2=v2 (percent-encoded values)
  OTEL_TRACES_SAMPLER[_ARG]           parentbased_always_on (default), traceidratio, ...
  OTEL_BSP_SCHEDULE_DELAY, _EXPORT_TIMEOUT (ms), _MAX_QUEUE_SIZE, _MAX_EXPORT_BATCH_SIZE
  OTEL_[SPAN_]ATTRIBUTE_VALUE_LENGTH_LIMIT (default 1024), OTEL_[SPAN_]ATTRIBUTE_COUNT_LIMIT (64)
  OTEL_METRICS_EXPORTER               prometheus (default: /metrics is scraped), otlp (pushed), both as
                                      otlp,prometheus, or none
  OTEL_LOGS_EXPORTER                  otlp: log records over OTLP too; unset or none: stdout and Loki only
  OTEL_EXPORTER_OTLP_{METRICS,LOGS}_{ENDPOINT,PROTOCOL}  per signal, as for traces
  OTEL_METRIC_EXPORT_INTERVAL (ms, default 5000), OTEL_METRIC_EXPORT_TIMEOUT (ms)
  OTEL_SDK_DISABLED=true              export no spans and nothing over OTLP (requests are unaffected)
`

// EnvName is the variable that can set a flag: --cache-ttl → PILLARS_CACHE_TTL.
func envName(flagName string) string {
	return "PILLARS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f *flags) usage(name, text string) string {
	return text + " (" + envName(name) + ")"
}

func (f *flags) String(p *string, name, def, text string) {
	f.fs.StringVar(p, name, def, f.usage(name, text))
}
func (f *flags) Int(p *int, name string, def int, text string) {
	f.fs.IntVar(p, name, def, f.usage(name, text))
}
func (f *flags) Float(p *float64, name string, def float64, text string) {
	f.fs.Float64Var(p, name, def, f.usage(name, text))
}
func (f *flags) Bool(p *bool, name string, def bool, text string) {
	f.fs.BoolVar(p, name, def, f.usage(name, text))
}
func (f *flags) Duration(p *time.Duration, name string, def time.Duration, text string) {
	f.fs.DurationVar(p, name, def, f.usage(name, text))
}

// parse reads args, then fills every flag not given on the command line from its variable.
func (f *flags) parse(args []string, getenv func(string) string) error {
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", f.fs.Arg(0))}
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	var errs []error
	f.fs.VisitAll(func(fl *flag.Flag) {
		if given[fl.Name] {
			return
		}
		if v := getenv(envName(fl.Name)); v != "" {
			if err := f.fs.Set(fl.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", envName(fl.Name), v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return usageError{err}
	}
	return nil
}

// usageError is a mistake in the command line or environment: exit code 2, like flag's.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func exitCode(err error) int {
	if _, ok := errors.AsType[usageError](err); ok || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}
