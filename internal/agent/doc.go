// Package agent holds the two reference agents of the drill benchmark. Both are MCP clients
// that use only the pillars MCP server's tools, as any agent under test must:
//
//   - the baseline ([Baseline]) is a deterministic rule-based diagnoser: it reads the RED
//     metrics and a few resource metrics of every service now and in a baseline window before,
//     and maps the pattern of what changed to a (service, kind, component) of the drill
//     vocabulary, or to "none". It proves that the tools suffice and sets a floor.
//   - the random guesser ([Random]) picks uniformly from the vocabulary: chance level.
//
// [Run] connects to the server, diagnoses, and submits through the drill_answer tool.
package agent
