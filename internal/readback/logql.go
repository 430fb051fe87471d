package readback

import (
	"fmt"
	"strconv"
	"strings"
)

// LogsQLFromLogQL translates the part of LogQL that links between signals are written in, a
// stream selector followed by label filters,
//
//	{service=~".+", environment="docker"} | trace_id="0af7651916cd43dd8448eb211c80319c"
//
// into the LogsQL that selects the same lines in VictoriaLogs, which keeps Loki's stream
// labels and structured metadata as fields of the same names:
//
//	{service=~".+",environment="docker"} trace_id:="0af7651916cd43dd8448eb211c80319c"
//
// LogQL regular expressions match the whole value, LogsQL's any part of it, so they are
// anchored. Anything else (line filters, parsers, formatting, metric queries) is refused with
// an error that names it: a query that cannot be carried over is not silently changed.
func LogsQLFromLogQL(logql string) (string, error) {
	p := &logqlParser{src: logql}
	sel, err := p.selector()
	if err != nil {
		return "", err
	}
	out := []string{sel}
	for {
		p.space()
		if p.done() {
			return strings.Join(out, " "), nil
		}
		f, err := p.labelFilter()
		if err != nil {
			return "", err
		}
		out = append(out, f)
	}
}

type logqlParser struct {
	src string
	pos int
}

func (p *logqlParser) done() bool { return p.pos >= len(p.src) }

func (p *logqlParser) space() {
	for !p.done() && strings.ContainsRune(" \t\r\n", rune(p.src[p.pos])) {
		p.pos++
	}
}

func (p *logqlParser) errorf(format string, args ...any) error {
	return fmt.Errorf("LogQL %q at offset %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *logqlParser) accept(s string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.pos:], s) {
		p.pos += len(s)
		return true
	}
	return false
}

func (p *logqlParser) ident() (string, error) {
	p.space()
	start := p.pos
	for !p.done() {
		c := p.src[p.pos]
		if c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (p.pos > start && c >= '0' && c <= '9') {
			p.pos++
			continue
		}
		break
	}
	if p.pos == start {
		return "", p.errorf("want a label name")
	}
	return p.src[start:p.pos], nil
}

// op reads a matcher operator; the longer ones are tried first.
func (p *logqlParser) op() (string, error) {
	for _, op := range []string{"=~", "!~", "!=", "="} {
		if p.accept(op) {
			return op, nil
		}
	}
	return "", p.errorf("want one of = != =~ !~")
}

// str reads a double-quoted or back-quoted LogQL string.
func (p *logqlParser) str() (string, error) {
	p.space()
	rest := p.src[p.pos:]
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil || quoted[0] == '\'' {
		return "", p.errorf("want a quoted string")
	}
	p.pos += len(quoted)
	s, err := strconv.Unquote(quoted)
	if err != nil {
		return "", p.errorf("%v", err)
	}
	return s, nil
}

func (p *logqlParser) matcher() (name, op, value string, err error) {
	if name, err = p.ident(); err != nil {
		return
	}
	if op, err = p.op(); err != nil {
		return
	}
	value, err = p.str()
	return
}

func (p *logqlParser) selector() (string, error) {
	if !p.accept("{") {
		return "", p.errorf("want a stream selector {label=\"value\", ...}; metric queries cannot be translated")
	}
	var ms []string
	for {
		name, op, value, err := p.matcher()
		if err != nil {
			return "", err
		}
		ms = append(ms, name+op+strconv.Quote(value))
		if p.accept("}") {
			return "{" + strings.Join(ms, ",") + "}", nil
		}
		if !p.accept(",") {
			return "", p.errorf("want , or }")
		}
	}
}

func (p *logqlParser) labelFilter() (string, error) {
	for _, lf := range []string{"|=", "|~", "!=", "!~"} {
		if p.accept(lf) {
			return "", p.errorf("the line filter %s cannot be translated: VictoriaLogs keeps the message, not the whole line", lf)
		}
	}
	if !p.accept("|") {
		return "", p.errorf("want | label=\"value\"")
	}
	name, err := p.ident()
	if err != nil {
		return "", err
	}
	switch name {
	case "json", "logfmt", "regexp", "pattern", "unpack", "line_format", "label_format", "drop", "keep", "decolorize", "unwrap":
		return "", p.errorf("the stage | %s cannot be translated", name)
	}
	op, err := p.op()
	if err != nil {
		return "", err
	}
	value, err := p.str()
	if err != nil {
		return "", err
	}
	switch op {
	case "=":
		return name + ":=" + strconv.Quote(value), nil
	case "!=":
		return "-" + name + ":=" + strconv.Quote(value), nil
	case "=~":
		return name + ":~" + strconv.Quote("^(?:"+value+")$"), nil
	default: // !~
		return "-" + name + ":~" + strconv.Quote("^(?:"+value+")$"), nil
	}
}
