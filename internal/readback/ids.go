package readback

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Lengths of W3C trace context ids in hex digits.
const (
	traceIDLen = 32
	spanIDLen  = 16
)

// NormalizeTraceID returns a trace id as 32 lower-case hex digits. Jaeger's API and Tempo's
// search print ids without their leading zeros (0484d9… comes back as 484d9…), so an id
// compared or substituted into a log query as it was answered would match nothing: every id
// that enters the model passes through here.
func NormalizeTraceID(id string) (string, error) { return normalizeHexID(id, traceIDLen, "trace") }

// NormalizeSpanID returns a span id as 16 lower-case hex digits.
func NormalizeSpanID(id string) (string, error) { return normalizeHexID(id, spanIDLen, "span") }

func normalizeHexID(id string, size int, what string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(id))
	if s == "" || len(s) > size {
		return "", fmt.Errorf("%s id %q: want 1 to %d hex digits", what, id, size)
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("%s id %q: want hex digits only", what, id)
		}
	}
	if strings.Trim(s, "0") == "" {
		return "", fmt.Errorf("%s id %q: all zeros is not a valid id", what, id)
	}
	return strings.Repeat("0", size-len(s)) + s, nil
}

// decodeOTLPID turns an id from OTLP JSON into hex. The OTLP specification writes ids as hex;
// Tempo's "mostly compatible" JSON writes the protobuf bytes as base64. The two cannot be
// mistaken for each other: 16 bytes are 32 hex digits but 24 base64 characters (8 bytes: 16
// and 12). An empty id (a root span's parent) stays empty.
func decodeOTLPID(s string, bytesLen int) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) == 2*bytesLen {
		if _, err := hex.DecodeString(s); err == nil {
			return strings.ToLower(s), nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == bytesLen {
			if allZero(b) {
				return "", nil
			}
			return hex.EncodeToString(b), nil
		}
	}
	return "", fmt.Errorf("id %q is neither %d hex digits nor base64 of %d bytes", s, 2*bytesLen, bytesLen)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
