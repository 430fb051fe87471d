package drill

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Diagnosis is what a person or an agent answers: where the fault is (service), what it is
// (kind), in which part (component), optionally since when (start) and why they think so
// (notes). {"service": "none", "kind": "none"} says there was no incident.
type Diagnosis struct {
	Service   string `json:"service"`
	Kind      string `json:"kind"`
	Component string `json:"component,omitempty"`
	Start     string `json:"start,omitempty"` // RFC 3339
	Notes     string `json:"notes,omitempty"`
}

// MaxNotes bounds the free text of a diagnosis.
const MaxNotes = 2 << 10

// maxDiagnosis bounds a whole document: its fields are short.
const maxDiagnosis = 8 << 10

// FieldError is a diagnosis that is wrong in one field: the message names it, so that a
// person or an agent can fix it (HTTP: a 400).
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"error"`
}

func (e *FieldError) Error() string { return "diagnosis: field " + e.Field + ": " + e.Msg }

// ParseDiagnosis reads and validates one diagnosis document. Unknown fields, missing or
// unknown values are a *FieldError naming the field.
func ParseDiagnosis(r io.Reader) (Diagnosis, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDiagnosis+1))
	if err != nil {
		return Diagnosis{}, err
	}
	if len(data) > maxDiagnosis {
		return Diagnosis{}, &FieldError{Field: "(document)", Msg: fmt.Sprintf("larger than %d bytes", maxDiagnosis)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Diagnosis
	if err := dec.Decode(&d); err != nil {
		return Diagnosis{}, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Diagnosis{}, &FieldError{Field: "(document)", Msg: "want one JSON object and nothing after it"}
	}
	return d, d.Validate()
}

// decodeError names the field a JSON error is about.
func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ) && typ.Field != "":
		return &FieldError{Field: typ.Field, Msg: "want a " + typ.Type.String() + ", got a JSON " + typ.Value}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &FieldError{Field: name, Msg: "unknown field: a diagnosis has service, kind, component, start and notes"}
	}
	return &FieldError{Field: "(document)", Msg: "not a JSON object of service, kind, component, start, notes: " + err.Error()}
}

// Validate checks every field against the vocabulary (Services, Kinds, Components).
func (d Diagnosis) Validate() error {
	switch {
	case d.Service == "":
		return &FieldError{"service", "missing: one of " + strings.Join(Services(), ", ")}
	case !known(Services(), d.Service):
		return &FieldError{"service", fmt.Sprintf("unknown service %q: one of %s", excerpt(d.Service), strings.Join(Services(), ", "))}
	case d.Kind == "":
		return &FieldError{"kind", "missing: one of " + strings.Join(Kinds(), ", ")}
	case !known(Kinds(), d.Kind):
		return &FieldError{"kind", fmt.Sprintf("unknown kind %q: one of %s", excerpt(d.Kind), strings.Join(Kinds(), ", "))}
	case (d.Service == NoIncident) != (d.Kind == NoIncident):
		return &FieldError{"kind", `"none" goes with "none": {"service": "none", "kind": "none"} says there was no incident`}
	case d.Component != "" && !known(Components(), d.Component):
		return &FieldError{"component", fmt.Sprintf("unknown component %q: a route template, a table or a dependency: %s",
			excerpt(d.Component), strings.Join(Components(), ", "))}
	case len(d.Notes) > MaxNotes:
		return &FieldError{"notes", fmt.Sprintf("%d bytes; at most %d", len(d.Notes), MaxNotes)}
	}
	if d.Start != "" {
		if _, err := time.Parse(time.RFC3339, d.Start); err != nil {
			return &FieldError{"start", fmt.Sprintf("not an RFC 3339 time like 2026-01-02T15:04:05Z: %q", excerpt(d.Start))}
		}
	}
	return nil
}

func excerpt(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
