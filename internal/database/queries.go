package database

import (
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// namedQuery is one entry of the fixed list GET /db/query can run: a prepared statement and
// the integer parameters it binds, in order. The request chooses a name and gives numbers;
// it never supplies SQL.
type namedQuery struct {
	name   string
	stmt   *statement
	params []queryParam
}

// queryParam is an integer parameter with its accepted range.
type queryParam struct {
	name     string
	required bool
	def      int64 // when not required and not given
	min, max int64
}

// namedQueries is the catalogue, by name.
type namedQueries struct {
	byName map[string]*namedQuery
	names  string // "a, b, c": the valid names, for error messages
}

func newNamedQueries(s *statements) namedQueries {
	list := []*namedQuery{
		{name: "top_products", stmt: s.topProducts, params: []queryParam{
			{name: "limit", def: 10, min: 1, max: 50},
		}},
		{name: "category_summary", stmt: s.categorySummary},
		{name: "user_orders", stmt: s.userOrders, params: []queryParam{
			{name: "user_id", required: true, min: 1, max: math.MaxInt64},
			{name: "limit", def: 20, min: 1, max: 100},
		}},
		{name: "low_stock", stmt: s.lowStock, params: []queryParam{
			{name: "threshold", def: 10, min: 0, max: 1_000_000},
			{name: "limit", def: 50, min: 1, max: 200},
		}},
	}
	q := namedQueries{byName: make(map[string]*namedQuery, len(list))}
	names := make([]string, 0, len(list))
	for _, nq := range list {
		q.byName[nq.name] = nq
		names = append(names, nq.name)
	}
	slices.Sort(names)
	q.names = strings.Join(names, ", ")
	return q
}

// bind picks the query the request names and reads its parameters. Every mistake (no name, an
// unknown name, an unknown, repeated, missing, non-integer or out-of-range parameter) is a 400
// that says what would have been right.
func (q namedQueries) bind(values url.Values) (*namedQuery, []any, error) {
	names := values["name"]
	switch {
	case len(names) == 0 || names[0] == "":
		return nil, nil, badRequest("missing query name: use ?name= with one of %s", q.names)
	case len(names) > 1:
		return nil, nil, badRequest("name given %d times: give one of %s", len(names), q.names)
	}
	nq, ok := q.byName[names[0]]
	if !ok {
		return nil, nil, badRequest("unknown query %q: valid names are %s", truncate(names[0]), q.names)
	}
	for key := range values {
		if key != "name" && !slices.ContainsFunc(nq.params, func(p queryParam) bool { return p.name == key }) {
			return nil, nil, badRequest("query %s has no parameter %q (it takes: %s)", nq.name, truncate(key), nq.paramList())
		}
	}
	args := make([]any, len(nq.params))
	for i, p := range nq.params {
		v, err := p.read(nq.name, values[p.name])
		if err != nil {
			return nil, nil, err
		}
		args[i] = v
	}
	return nq, args, nil
}

func (p queryParam) read(query string, given []string) (int64, error) {
	switch {
	case len(given) == 0 && p.required:
		return 0, badRequest("query %s needs parameter %s (an integer from %d to %d)", query, p.name, p.min, p.max)
	case len(given) == 0:
		return p.def, nil
	case len(given) > 1:
		return 0, badRequest("parameter %s of query %s given %d times", p.name, query, len(given))
	}
	v, err := strconv.ParseInt(given[0], 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, badRequest("parameter %s of query %s must be an integer, got %q", p.name, query, truncate(given[0]))
	}
	if err != nil || v < p.min || v > p.max {
		return 0, badRequest("parameter %s of query %s must be from %d to %d, got %s", p.name, query, p.min, p.max, truncate(given[0]))
	}
	return v, nil
}

func (nq *namedQuery) paramList() string {
	if len(nq.params) == 0 {
		return "no parameters"
	}
	names := make([]string, len(nq.params))
	for i, p := range nq.params {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

// maxEcho bounds how much of a bad request value is repeated in its error and log line.
const maxEcho = 32

// truncate cuts s to maxEcho bytes (on a rune boundary).
func truncate(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
