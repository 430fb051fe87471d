package mcp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// Bounds of every answer.
const (
	// DefaultLimit is the rows of a page when the call names none.
	DefaultLimit = 20
	// MaxLimit is the most rows a page holds, whatever the call asks for.
	MaxLimit = 100
	// MaxOffset bounds paging: a store that takes a limit is asked for offset+limit+1 rows,
	// and a deeper page is better found by narrowing the query or the window.
	MaxOffset = 1000
	// maxLine cuts a row (a long label set, a log message) so that one row cannot flood a page.
	maxLine = 240
	// maxError is how much of a store's message a tool error quotes.
	maxError = 400
)

// Page is the paging of a tool's input: which rows of the whole answer to show.
type Page struct {
	Limit  int `json:"limit,omitempty" jsonschema:"default 20, max 100"`
	Offset int `json:"offset,omitempty"`
}

func (p Page) bounds() (offset, limit int, err error) {
	if p.Offset < 0 || p.Limit < 0 {
		return 0, 0, errors.New("limit and offset must not be negative")
	}
	if p.Offset > MaxOffset {
		return 0, 0, fmt.Errorf("offset %d: at most %d; narrow the query or the window", p.Offset, MaxOffset)
	}
	limit = p.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	return p.Offset, min(limit, MaxLimit), nil
}

// fetch is how many rows to ask a store for that answers no more than it is asked: enough for
// this page and one more row, to know whether there is a next page.
func (p Page) fetch() int {
	off, lim, _ := p.bounds()
	return off + lim + 1
}

// paginate writes the rows of the page p selects, one a line cut at rowMax bytes, then a
// footer that says which rows these are and the offset of the next page. exact is false when
// the store was asked for a bounded number of rows ([Page.fetch]): then the total is unknown.
func paginate(b *strings.Builder, rows []string, p Page, exact bool, rowMax int) {
	off, lim, _ := p.bounds()
	if off >= len(rows) {
		if len(rows) == 0 {
			b.WriteString("no results\n")
		} else {
			fmt.Fprintf(b, "offset %d is past the last row (%d rows)\n", off, len(rows))
		}
		return
	}
	end := min(off+lim, len(rows))
	for _, r := range rows[off:end] {
		b.WriteString(cut(r, rowMax))
		b.WriteByte('\n')
	}
	total := fmt.Sprint(len(rows))
	if !exact && end < len(rows) {
		total = "more than " + fmt.Sprint(end)
	}
	fmt.Fprintf(b, "-- rows %d-%d of %s", off+1, end, total)
	if end < len(rows) {
		fmt.Fprintf(b, "; next=%d", end)
	}
	b.WriteByte('\n')
}

// cut shortens s to n bytes at a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !isRuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// toolError is the message of a tool error: the store's own words (a parse error names the
// position in the query), without the request URL that repeats the query, on one line,
// without control characters, and short.
func toolError(what string, err error) error {
	msg := err.Error()
	if he, ok := errors.AsType[*readback.HTTPError](err); ok {
		var parts []string
		if he.Status != 0 {
			parts = append(parts, fmt.Sprintf("%d %s", he.Status, http.StatusText(he.Status)))
		}
		for _, s := range []string{he.Reason, he.Body} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		msg = strings.Join(parts, ": ")
	} else if ue, ok := errors.AsType[*readback.UnreachableError](err); ok {
		msg = "store unreachable: " + ue.Why
	}
	return fmt.Errorf("%s: %s", what, cut(printable(msg), maxError))
}

// printable turns control characters into spaces: a store's message goes into an agent's
// context as is.
func printable(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }), " ")
}
