package mcptest

import (
	"encoding/json"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// ListBytes is the size of the tools/list result as JSON: what an agent's context pays.
func ListBytes(t *testing.T, res *sdk.ListToolsResult) int {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}
