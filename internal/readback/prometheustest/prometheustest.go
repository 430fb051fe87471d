// Package prometheustest holds the cases that readback's Prometheus client must pass, and a
// tiny fake of the Prometheus HTTP API that answers them. The unit tests run the cases against
// the fake; the end-to-end suite runs the same cases against a real Prometheus, so the fake
// cannot drift from what Prometheus answers. Every case asks about values the query makes
// itself (vector(3), scalar(...)) or about a metric nobody exports, so a real Prometheus
// answers it the same whatever it has stored.
package prometheustest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// Case is one call of the client and what any Prometheus makes it return.
type Case struct {
	Name  string
	Check func(ctx context.Context, p *readback.Prometheus) error
}

// absent is a metric no Prometheus stores.
const absent = "pillars_readback_absent_metric"

// The queries of the cases, which the fake knows.
const (
	labelled = `label_replace(vector(3), "pillars", "yes", "", "")`
	scalar   = `scalar(vector(2.5))`
	infinite = `vector(1/0)`
	constant = `vector(7)`
	broken   = `sum(`
)

// Cases are the client's cases, each against any Prometheus.
func Cases() []Case {
	return []Case{
		{"build information", func(ctx context.Context, p *readback.Prometheus) error {
			info, err := p.Ping(ctx)
			if err == nil && info.GoVersion == "" {
				err = errors.New("no Go version in the build information")
			}
			return err
		}},
		{"an instant vector with its labels", func(ctx context.Context, p *readback.Prometheus) error {
			res, err := p.Query(ctx, labelled, time.Time{})
			if err != nil {
				return err
			}
			if len(res) != 1 || res[0].Value != 3 || len(res[0].Metric) != 1 || res[0].Metric["pillars"] != "yes" || res[0].Time.IsZero() {
				return fmt.Errorf("%s = %+v, want one sample 3 labelled pillars=yes", labelled, res)
			}
			return nil
		}},
		{"a scalar", func(ctx context.Context, p *readback.Prometheus) error {
			res, err := p.Query(ctx, scalar, time.Time{})
			if err == nil && (len(res) != 1 || res[0].Value != 2.5 || len(res[0].Metric) != 0) {
				err = fmt.Errorf("%s = %+v, want one unlabelled 2.5", scalar, res)
			}
			return err
		}},
		{"infinity", func(ctx context.Context, p *readback.Prometheus) error {
			res, err := p.Query(ctx, infinite, time.Time{})
			if err == nil && (len(res) != 1 || !math.IsInf(res[0].Value, 1)) {
				err = fmt.Errorf("%s = %+v, want +Inf", infinite, res)
			}
			return err
		}},
		{"the sum of nothing is 0", func(ctx context.Context, p *readback.Prometheus) error {
			v, err := p.Sum(ctx, absent)
			if err == nil && v != 0 {
				err = fmt.Errorf("sum(%s) = %v, want 0", absent, v)
			}
			return err
		}},
		{"a range", func(ctx context.Context, p *readback.Prometheus) error {
			end := time.Now().Truncate(time.Second)
			res, err := p.QueryRange(ctx, constant, end.Add(-time.Minute), end, 30*time.Second)
			if err != nil {
				return err
			}
			if len(res) != 1 || len(res[0].Points) != 3 || !res[0].Points[2].Time.Equal(end) {
				return fmt.Errorf("%s over a minute by 30s = %+v, want one series of 3 points ending %s", constant, res, end)
			}
			for _, pt := range res[0].Points {
				if pt.Value != 7 {
					return fmt.Errorf("point %+v, want 7", pt)
				}
			}
			return nil
		}},
		{"a query Prometheus refuses says why", func(ctx context.Context, p *readback.Prometheus) error {
			_, err := p.Query(ctx, broken, time.Time{})
			if err == nil {
				return fmt.Errorf("%s was accepted", broken)
			}
			for _, want := range []string{p.URL() + "/api/v1/query", "400 Bad Request", "bad_data"} {
				if !strings.Contains(err.Error(), want) {
					return fmt.Errorf("error %q does not say %q", err, want)
				}
			}
			return nil
		}},
		{"no series, no exemplars", func(ctx context.Context, p *readback.Prometheus) error {
			now := time.Now()
			series, err := p.Series(ctx, []string{absent}, now.Add(-5*time.Minute), now)
			if err != nil || len(series) != 0 {
				return fmt.Errorf("series of %s: %v, %v; want none", absent, series, err)
			}
			ex, err := p.Exemplars(ctx, absent, now.Add(-5*time.Minute), now)
			if err != nil || len(ex) != 0 {
				return fmt.Errorf("exemplars of %s: %v, %v; want none", absent, ex, err)
			}
			return nil
		}},
		{"alerts", func(ctx context.Context, p *readback.Prometheus) error {
			_, err := p.Alerts(ctx)
			return err
		}},
	}
}

// NewFake starts a fake Prometheus API that answers the cases as Prometheus does, and
// nothing else; it stops when the test ends.
func NewFake(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/status/buildinfo", func(w http.ResponseWriter, r *http.Request) {
		success(w, `{"version":"3.8.0","revision":"fake","branch":"","buildUser":"","buildDate":"","goVersion":"go1.26.8"}`)
	})
	mux.HandleFunc("/api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		now := unixSeconds(time.Now())
		switch q := r.Form.Get("query"); q {
		case labelled:
			success(w, `{"resultType":"vector","result":[{"metric":{"pillars":"yes"},"value":[`+now+`,"3"]}]}`)
		case scalar:
			success(w, `{"resultType":"scalar","result":[`+now+`,"2.5"]}`)
		case infinite:
			success(w, `{"resultType":"vector","result":[{"metric":{},"value":[`+now+`,"+Inf"]}]}`)
		case "sum(" + absent + ")":
			success(w, `{"resultType":"vector","result":[]}`)
		case broken:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected end of input"}`)
		default:
			http.Error(w, "this fake does not know the query "+q, http.StatusNotImplemented)
		}
	})
	mux.HandleFunc("/api/v1/query_range", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
		end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
		step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
		if r.Form.Get("query") != constant || step <= 0 {
			http.Error(w, "this fake knows the query "+constant+" only", http.StatusNotImplemented)
			return
		}
		var points []string
		for at := start; at <= end; at += step {
			points = append(points, `[`+strconv.FormatFloat(at, 'f', -1, 64)+`,"7"]`)
		}
		success(w, `{"resultType":"matrix","result":[{"metric":{},"values":[`+strings.Join(points, ",")+`]}]}`)
	})
	mux.HandleFunc("/api/v1/series", func(w http.ResponseWriter, r *http.Request) { success(w, `[]`) })
	mux.HandleFunc("/api/v1/query_exemplars", func(w http.ResponseWriter, r *http.Request) { success(w, `[]`) })
	mux.HandleFunc("/api/v1/alerts", func(w http.ResponseWriter, r *http.Request) { success(w, `{"alerts":[]}`) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func success(w http.ResponseWriter, data string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"status":"success","data":`+data+`}`)
}

func unixSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}
