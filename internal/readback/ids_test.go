package readback

import "testing"

func TestNormalizeTraceID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0af7651916cd43dd8448eb211c80319c", "0af7651916cd43dd8448eb211c80319c"},
		// Tempo's search and Jaeger drop leading zeros; upper case and spaces come from people.
		{"484d9", "000000000000000000000000000484d9"},
		{"af7651916cd43dd8448eb211c80319c", "0af7651916cd43dd8448eb211c80319c"},
		{" 0AF7651916CD43DD8448EB211C80319C\n", "0af7651916cd43dd8448eb211c80319c"},
	} {
		got, err := NormalizeTraceID(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeTraceID(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0", "00000000000000000000000000000000", "xyz", "0af7651916cd43dd8448eb211c80319c0", "0af76519-16cd"} {
		if got, err := NormalizeTraceID(bad); err == nil {
			t.Errorf("NormalizeTraceID(%q) = %q, want an error", bad, got)
		}
	}
	if got, err := NormalizeSpanID("b7ad6b7169203331"); err != nil || got != "b7ad6b7169203331" {
		t.Errorf("NormalizeSpanID: %q, %v", got, err)
	}
}

// Tempo writes ids in base64, the OTLP specification in hex: both decode to the same hex.
func TestDecodeOTLPID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		size int
		want string
	}{
		{"AAAKGyw9Tl9gcYKTpLXG1w==", 16, "00000a1b2c3d4e5f60718293a4b5c6d7"},
		{"00000a1b2c3d4e5f60718293a4b5c6d7", 16, "00000a1b2c3d4e5f60718293a4b5c6d7"},
		{"t61rcWkgMzE=", 8, "b7ad6b7169203331"},
		{"b7ad6b7169203331", 8, "b7ad6b7169203331"},
		{"", 8, ""},
		{"AAAAAAAAAAA=", 8, ""}, // an all-zero parent is no parent
	} {
		got, err := decodeOTLPID(tc.in, tc.size)
		if err != nil || got != tc.want {
			t.Errorf("decodeOTLPID(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"not an id", "AAAA", "b7ad6b71692033"} {
		if _, err := decodeOTLPID(bad, 8); err == nil {
			t.Errorf("decodeOTLPID(%q): want an error", bad)
		}
	}
}
