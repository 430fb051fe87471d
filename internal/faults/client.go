package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// AdminClient drives one service's admin API: what scenarios, the command line and the
// console use. Knobs travel as a JSON object of knob names, as the API takes them.
type AdminClient struct {
	base  string
	token string
	http  *http.Client
}

// NewAdminClient returns a client of the admin API of the service at baseURL.
func NewAdminClient(baseURL, token string, c *http.Client) *AdminClient {
	if c == nil {
		c = http.DefaultClient
	}
	return &AdminClient{base: strings.TrimSuffix(baseURL, "/"), token: token, http: c}
}

// URL is the service's base URL.
func (c *AdminClient) URL() string { return c.base }

// Faults reads the faults in effect.
func (c *AdminClient) Faults(ctx context.Context) (map[string]any, error) {
	var v map[string]any
	return v, c.Do(ctx, http.MethodGet, "/admin/faults", nil, &v)
}

// Replace makes knobs the service's faults (the others off).
func (c *AdminClient) Replace(ctx context.Context, knobs map[string]any) error {
	return c.Do(ctx, http.MethodPut, "/admin/faults", knobs, nil)
}

// Patch changes the knobs given.
func (c *AdminClient) Patch(ctx context.Context, knobs map[string]any) error {
	return c.Do(ctx, http.MethodPatch, "/admin/faults", knobs, nil)
}

// ReplaceLeased makes knobs the service's faults under a lease of ttl: they last while
// Renew is called within each ttl, and the service's base faults come back after.
func (c *AdminClient) ReplaceLeased(ctx context.Context, knobs map[string]any, ttl time.Duration) error {
	return c.do(ctx, http.MethodPut, "/admin/faults", leaseHeader(ttl), knobs, nil)
}

// PatchLeased changes the knobs given under a lease of ttl.
func (c *AdminClient) PatchLeased(ctx context.Context, knobs map[string]any, ttl time.Duration) error {
	return c.do(ctx, http.MethodPatch, "/admin/faults", leaseHeader(ttl), knobs, nil)
}

// Renew extends the service's lease by ttl; an error wrapping ErrNoLease when it holds none.
func (c *AdminClient) Renew(ctx context.Context, ttl time.Duration) error {
	err := c.do(ctx, http.MethodPut, "/admin/faults/lease", leaseHeader(ttl), nil, nil)
	if e, ok := errors.AsType[*AnswerError](err); ok && e.Status == http.StatusConflict {
		return fmt.Errorf("%w (%s)", ErrNoLease, c.base)
	}
	return err
}

// Release ends the service's lease now, so that its base faults come back, and reports
// whether it held one.
func (c *AdminClient) Release(ctx context.Context) (bool, error) {
	var v struct {
		Released bool `json:"released"`
	}
	err := c.do(ctx, http.MethodDelete, "/admin/faults/lease", nil, nil, &v)
	return v.Released, err
}

func leaseHeader(ttl time.Duration) http.Header {
	return http.Header{LeaseHeader: {ttl.String()}}
}

// Knobs describes the service's knobs.
func (c *AdminClient) Knobs(ctx context.Context) ([]Knob, error) {
	var v []Knob
	return v, c.Do(ctx, http.MethodGet, "/admin/faults/knobs", nil, &v)
}

// Do calls an admin endpoint with body (JSON, may be nil) and decodes the answer into out
// (may be nil). A failure names the URL and what it answered.
func (c *AdminClient) Do(ctx context.Context, method, path string, body, out any) error {
	return c.do(ctx, method, path, nil, body, out)
}

func (c *AdminClient) do(ctx context.Context, method, path string, header http.Header, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.base+path, rootCause(err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		var e telemetry.ErrorBody
		msg := telemetry.Excerpt(strings.TrimSpace(string(data)))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error // the admin API's own message, written for its caller and bounded by it
		}
		return &AnswerError{Status: resp.StatusCode,
			msg: fmt.Sprintf("%s %s answered %s: %s", method, c.base+path, resp.Status, msg)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s answered something that is not the admin API's JSON: %s", method, c.base+path, telemetry.Excerpt(string(data)))
		}
	}
	return nil
}

// rootCause drops the "Get <url>:" wrapping of a transport error (the URL is named already).
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// AnswerError is an admin API's answer other than 2xx.
type AnswerError struct {
	Status int
	msg    string
}

func (e *AnswerError) Error() string { return e.msg }
