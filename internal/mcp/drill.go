package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxDrillRows bounds a drill answer (a scoreboard grows with every episode).
const maxDrillRows = 100

type drillStartIn struct {
	Seed int64 `json:"seed" jsonschema:"same seed, same episode"`
}

// Diagnosis is the answer to an episode, in the drill vocabulary.
type Diagnosis struct {
	Service   string `json:"service" jsonschema:"frontend|backend|database|none"`
	Kind      string `json:"kind" jsonschema:"latency|errors|lock-contention|missing-index|memory-leak|cpu-burn|dependency-down|bad-deploy|retry-storm|cache-off|pool-exhaustion|none"`
	Component string `json:"component,omitempty" jsonschema:"route template, table or dependency"`
	Start     string `json:"start,omitempty" jsonschema:"RFC 3339"`
	Notes     string `json:"notes,omitempty"`
}

type noInput struct{}

func (s *server) addDrillTools(srv *sdk.Server) {
	sdk.AddTool(srv, &sdk.Tool{Name: "drill_start", Description: "Start a blind incident episode (admin token)."}, handler(s.drillStart))
	sdk.AddTool(srv, &sdk.Tool{Name: "drill_status", Description: "The current episode."}, handler(s.drillStatus))
	sdk.AddTool(srv, &sdk.Tool{Name: "drill_answer", Description: "Submit a diagnosis of the current episode; answers the grade."}, handler(s.drillAnswer))
	sdk.AddTool(srv, &sdk.Tool{Name: "drill_score", Description: "The scoreboard."}, handler(s.drillScore))
}

func (s *server) drillStart(ctx context.Context, req *sdk.CallToolRequest, in drillStartIn) (string, error) {
	if err := s.authorize(req); err != nil {
		return "", err
	}
	return drillText(s.cfg.Drills.Start(ctx, in.Seed))
}

func (s *server) drillStatus(ctx context.Context, _ *sdk.CallToolRequest, _ noInput) (string, error) {
	return drillText(s.cfg.Drills.Status(ctx))
}

func (s *server) drillAnswer(ctx context.Context, _ *sdk.CallToolRequest, in Diagnosis) (string, error) {
	doc, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	return drillText(s.cfg.Drills.Answer(ctx, doc))
}

func (s *server) drillScore(ctx context.Context, _ *sdk.CallToolRequest, _ noInput) (string, error) {
	return drillText(s.cfg.Drills.Score(ctx))
}

// drillText writes a drill result as "path: value" lines rather than a JSON dump.
func drillText(v any, err error) (string, error) {
	if err != nil {
		return "", fmt.Errorf("drill: %s", cut(printable(err.Error()), maxError))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return "", err
	}
	var rows []string
	flatten(&rows, "", tree)
	if len(rows) > maxDrillRows {
		rows = append(rows[:maxDrillRows], fmt.Sprintf("… %d more lines", len(rows)-maxDrillRows))
	}
	return strings.Join(rows, "\n") + "\n", nil
}

func flatten(rows *[]string, path string, v any) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			flatten(rows, join(path, k), t[k])
		}
	case []any:
		for i, e := range t {
			flatten(rows, fmt.Sprintf("%s[%d]", path, i), e)
		}
	default:
		b, _ := json.Marshal(t)
		*rows = append(*rows, cut(join(path, "")+string(b), maxLine))
	}
}

func join(path, key string) string {
	switch {
	case key == "" && path == "":
		return ""
	case key == "":
		return path + ": "
	case path == "":
		return key
	}
	return path + "." + key
}
