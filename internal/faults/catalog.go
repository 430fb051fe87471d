package faults

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Knob describes one knob, as GET /admin/faults/knobs answers it.
type Knob struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"` // duration, rate, size, bool, int, string
	Min        string   `json:"min,omitempty"`
	Max        string   `json:"max,omitempty"`
	PerRequest bool     `json:"per_request"` // may be set for one request by the X-Pillars-Fault header
	Choices    []string `json:"choices,omitempty"`
	Help       string   `json:"help"`

	index    []int // of the field in the knobs struct
	max, min int64 // bounds in the kind's unit: nanoseconds, bytes, the integer, a string's length
}

// KnobError is a knob given a value it cannot take; the message names the knob.
type KnobError struct {
	Knob string
	Msg  string
}

func (e *KnobError) Error() string { return "knob " + e.Knob + ": " + e.Msg }

// catalog is what reflection learned once about a knobs struct.
type catalog struct {
	tier   string
	typ    reflect.Type
	knobs  []*Knob
	byName map[string]*Knob
}

var (
	durationType = reflect.TypeFor[Duration]()
	rateType     = reflect.TypeFor[Rate]()
	sizeType     = reflect.TypeFor[Size]()
)

// catalogOf lists the knobs of struct type t (embedded structs included). choices gives the
// valid values of string knobs tagged choices:"<key>".
func catalogOf(tier string, t reflect.Type, choices map[string][]string) (*catalog, error) {
	c := &catalog{tier: tier, typ: t, byName: map[string]*Knob{}}
	if err := c.add(t, nil, choices); err != nil {
		return nil, err
	}
	return c, nil
}

// isCallKnob reports whether name is one of the Calls knobs, which break the calls the service
// makes to the next one.
func (c *catalog) isCallKnob(name string) bool {
	k, ok := c.byName[name]
	return ok && len(k.index) > 1 && c.typ.FieldByIndex(k.index[:1]).Type == reflect.TypeFor[Calls]()
}

func (c *catalog) add(t reflect.Type, prefix []int, choices map[string][]string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		index := append(slices.Clone(prefix), i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := c.add(f.Type, index, choices); err != nil {
				return err
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return fmt.Errorf("faults: field %s has no json name", f.Name)
		}
		k := &Knob{Name: name, PerRequest: f.Tag.Get("scope") == "request", Help: f.Tag.Get("help"), index: index}
		if err := k.setKind(f.Type, f.Tag); err != nil {
			return fmt.Errorf("faults: knob %s: %w", name, err)
		}
		if key := f.Tag.Get("choices"); key != "" {
			k.Choices = choices[key]
		}
		c.knobs = append(c.knobs, k)
		c.byName[name] = k
	}
	return nil
}

func (k *Knob) setKind(t reflect.Type, tag reflect.StructTag) error {
	maxTag, minTag := tag.Get("max"), tag.Get("min")
	switch {
	case t == durationType:
		k.Kind, k.max = "duration", int64(time.Minute)
		if maxTag != "" {
			d, err := time.ParseDuration(maxTag)
			if err != nil {
				return err
			}
			k.max = int64(d)
		}
		k.Max = time.Duration(k.max).String()
	case t == rateType:
		k.Kind, k.Min, k.Max = "rate", "0", "1"
	case t == sizeType:
		k.Kind, k.max = "size", 1<<30
		if maxTag != "" {
			s, err := parseSize(maxTag)
			if err != nil {
				return err
			}
			k.max = int64(s)
		}
		k.Max = Size(k.max).String()
	case t.Kind() == reflect.Bool:
		k.Kind = "bool"
	case t.Kind() == reflect.Int:
		k.Kind, k.max = "int", 100
		if maxTag != "" {
			k.max, _ = strconv.ParseInt(maxTag, 10, 64)
		}
		if minTag != "" {
			k.min, _ = strconv.ParseInt(minTag, 10, 64)
		}
		k.Min, k.Max = strconv.FormatInt(k.min, 10), strconv.FormatInt(k.max, 10)
	case t.Kind() == reflect.String:
		k.Kind, k.max = "string", 256
		if maxTag != "" {
			k.max, _ = strconv.ParseInt(maxTag, 10, 64)
		}
	default:
		return fmt.Errorf("unsupported type %s", t)
	}
	return nil
}

// names lists the knobs, for error messages.
func (c *catalog) names() string {
	out := make([]string, len(c.knobs))
	for i, k := range c.knobs {
		out[i] = k.Name
	}
	return strings.Join(out, ", ")
}

func (c *catalog) knob(name string) (*Knob, error) {
	k, ok := c.byName[name]
	if !ok {
		return nil, fmt.Errorf("unknown knob %s: the %s's knobs are %s", strconv.Quote(telemetry.Excerpt(name)), c.tier, c.names())
	}
	return k, nil
}

// setJSON sets knob name of the struct v points at from a JSON value.
func (c *catalog) setJSON(v reflect.Value, name string, raw json.RawMessage) error {
	k, err := c.knob(name)
	if err != nil {
		return err
	}
	var text string
	switch k.Kind {
	case "rate", "int":
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return &KnobError{name, "want a number, got " + telemetry.Excerpt(string(raw))}
		}
		text = n.String()
	case "bool":
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return &KnobError{name, "want true or false, got " + telemetry.Excerpt(string(raw))}
		}
		text = strconv.FormatBool(b)
	default: // duration, size, string: written as strings ("250ms", "64MiB"); a size may be a number
		if err := json.Unmarshal(raw, &text); err != nil {
			var n json.Number
			if k.Kind != "size" || json.Unmarshal(raw, &n) != nil {
				return &KnobError{name, "want a string" + example(k.Kind) + ", got " + telemetry.Excerpt(string(raw))}
			}
			text = n.String()
		}
	}
	return c.setText(v, name, text)
}

func example(kind string) string {
	switch kind {
	case "duration":
		return ` like "250ms"`
	case "size":
		return ` like "64MiB"`
	}
	return ""
}

// setText sets knob name from its text form ("250ms", "0.5", "true", "64MiB", "3", "/user/{id}"),
// checking the knob's bounds.
func (c *catalog) setText(v reflect.Value, name, text string) error {
	k, err := c.knob(name)
	if err != nil {
		return err
	}
	field := v.Elem().FieldByIndex(k.index)
	fail := func(msg string) error { return &KnobError{name, msg} }
	switch k.Kind {
	case "duration":
		d, err := time.ParseDuration(strings.TrimSpace(text))
		switch {
		case err != nil:
			return fail("want a duration like \"250ms\", got " + strconv.Quote(telemetry.Excerpt(text)))
		case d < 0:
			return fail("must not be negative, got " + d.String())
		case int64(d) > k.max:
			return fail("at most " + k.Max + ", got " + d.String())
		}
		field.SetInt(int64(d))
	case "rate":
		r, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil || !(r >= 0 && r <= 1) { // also refuses NaN
			return fail("want a share between 0 and 1, got " + strconv.Quote(telemetry.Excerpt(text)))
		}
		field.SetFloat(r)
	case "size":
		s, err := parseSize(text)
		switch {
		case err != nil:
			return fail(err.Error())
		case int64(s) > k.max:
			return fail("at most " + k.Max + ", got " + s.String())
		}
		field.SetInt(int64(s))
	case "bool":
		b, err := parseBool(text)
		if err != nil {
			return fail(err.Error())
		}
		field.SetBool(b)
	case "int":
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil || n < k.min || n > k.max {
			return fail(fmt.Sprintf("want an integer from %d to %d, got %s", k.min, k.max, strconv.Quote(telemetry.Excerpt(text))))
		}
		field.SetInt(n)
	case "string":
		switch {
		case int64(len(text)) > k.max:
			return fail(fmt.Sprintf("at most %d characters, got %d", k.max, len(text)))
		case text != "" && k.Choices != nil && !slices.Contains(k.Choices, text):
			return fail(strconv.Quote(telemetry.Excerpt(text)) + " is not one of " + strings.Join(k.Choices, ", "))
		}
		field.SetString(text)
	}
	return nil
}

// active lists the knobs of the struct v points at that are not zero: the faults in effect.
func (c *catalog) active(v reflect.Value) []string {
	var out []string
	for _, k := range c.knobs {
		if !v.Elem().FieldByIndex(k.index).IsZero() {
			out = append(out, k.Name)
		}
	}
	return out
}

// describe writes the non-zero knobs of v as "latency=300ms, error_rate=0.2" for logs and
// span attributes.
func (c *catalog) describe(v reflect.Value) string {
	var parts []string
	for _, s := range c.settings(v) {
		parts = append(parts, s.Knob+"="+s.Value)
	}
	return strings.Join(parts, ", ")
}

// settings lists the knobs set in the struct v points at, in the catalog's order.
func (c *catalog) settings(v reflect.Value) []Setting {
	out := []Setting{}
	for _, k := range c.knobs {
		if f := v.Elem().FieldByIndex(k.index); !f.IsZero() {
			out = append(out, Setting{Knob: k.Name, Value: textOf(k, f)})
		}
	}
	return out
}

// textOf writes a knob's value in the form setText reads.
func textOf(k *Knob, f reflect.Value) string {
	switch k.Kind {
	case "duration":
		return time.Duration(f.Int()).String()
	case "size":
		return Size(f.Int()).String()
	case "rate":
		return strconv.FormatFloat(f.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(f.Interface())
}
