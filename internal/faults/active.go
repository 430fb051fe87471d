package faults

import (
	"bytes"
	"reflect"
)

// Setting is one knob that is on, its value written as PUT /admin/faults takes it.
type Setting struct {
	Knob  string `json:"knob"`
	Value string `json:"value"`
}

// Active lists the knobs set in doc, a document of tier's faults as GET /admin/faults answers
// it (every knob, zero when off), in the catalog's order: what a console shows of a service.
func Active(tier string, doc []byte) ([]Setting, error) {
	c, err := catalogFor(tier)
	if err != nil {
		return nil, err
	}
	v := reflect.New(c.typ)
	if err := c.decode(v, bytes.NewReader(doc)); err != nil {
		return nil, err
	}
	return c.settings(v), nil
}
