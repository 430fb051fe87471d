package readback

import "testing"

func TestLogsQLFromLogQL(t *testing.T) {
	for _, tc := range []struct{ logql, logsql string }{
		// The trace → logs query of deploy/grafana/provisioning/datasources/datasources.yaml.
		{`{service=~".+"} | trace_id="0af7651916cd43dd8448eb211c80319c"`,
			`{service=~".+"} trace_id:="0af7651916cd43dd8448eb211c80319c"`},
		{`{service="backend", environment!="dev"}`, `{service="backend",environment!="dev"}`},
		{"{job=`a\"b`} | level != \"debug\"", `{job="a\"b"} -level:="debug"`},
		{`{service=~".+"} | span_id=~"ab.*" | level!~"debug|info"`,
			`{service=~".+"} span_id:~"^(?:ab.*)$" -level:~"^(?:debug|info)$"`},
	} {
		got, err := LogsQLFromLogQL(tc.logql)
		if err != nil || got != tc.logsql {
			t.Errorf("LogsQLFromLogQL(%s) = %s, %v; want %s", tc.logql, got, err, tc.logsql)
		}
	}
	for _, bad := range []string{
		`rate({service="backend"}[1m])`,
		`{service="backend"} |= "error"`,
		`{service="backend"} | json`,
		`{service="backend"} | line_format "{{.msg}}"`,
		`{service="backend"`,
		`{service=backend}`,
		`{service="backend"} trace_id="x"`,
	} {
		if got, err := LogsQLFromLogQL(bad); err == nil {
			t.Errorf("LogsQLFromLogQL(%s) = %s, want an error", bad, got)
		}
	}
}
