package mcp

import (
	"context"
	"encoding/json"
)

// Drills runs blind incident episodes and grades diagnoses. The values returned are
// JSON-marshalable structs; Status never holds an episode's answer key.
type Drills interface {
	// Start begins a blind episode from seed and returns its public status.
	Start(ctx context.Context, seed int64) (any, error)
	// Status is the running or last episode, without its key.
	Status(ctx context.Context) (any, error)
	// Answer grades a diagnosis of the current episode and returns the result with the reveal.
	Answer(ctx context.Context, diagnosis json.RawMessage) (any, error)
	// Score is the scoreboard so far.
	Score(ctx context.Context) (any, error)
}
