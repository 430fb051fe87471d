package telemetry

import (
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// The Loki push API's protobuf body (logproto.PushRequest), encoded by hand: four small
// messages are not worth a dependency on Loki's generated code. Field numbers follow
// pkg/push/push.proto:
//
//	PushRequest      { repeated StreamAdapter streams = 1; }
//	StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; }
//	EntryAdapter     { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
//	LabelPairAdapter { string name = 1; string value = 2; }
//	Timestamp        { int64 seconds = 1; int32 nanos = 2; }
//
// Every message's size is computed before it is written, so the body is built in one pass
// into one buffer, without encoding a nested message elsewhere and copying it in: a batch of
// a thousand lines is copied once, not three times.

type lokiStream struct {
	labels  string // `{environment="dev", level="info", service="frontend"}`
	entries []lokiEntry
}

func appendPushRequest(b []byte, streams []lokiStream) []byte {
	for _, s := range streams {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(streamSize(s)))
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s.labels)
		for _, e := range s.entries {
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(entrySize(e)))
			b = appendEntry(b, e)
		}
	}
	return b
}

func streamSize(s lokiStream) int {
	n := 1 + protowire.SizeBytes(len(s.labels))
	for _, e := range s.entries {
		n += 1 + protowire.SizeBytes(entrySize(e))
	}
	return n
}

func entrySize(e lokiEntry) int {
	n := 1 + protowire.SizeBytes(timestampSize(e.ts)) + 1 + protowire.SizeBytes(len(e.line))
	if e.traceID != "" {
		n += 1 + protowire.SizeBytes(labelPairSize("trace_id", e.traceID))
		n += 1 + protowire.SizeBytes(labelPairSize("span_id", e.spanID))
	}
	return n
}

func appendEntry(b []byte, e lokiEntry) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(timestampSize(e.ts)))
	b = appendTimestamp(b, e.ts)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, e.line)
	if e.traceID != "" {
		b = appendLabelPair(b, 3, "trace_id", e.traceID)
		b = appendLabelPair(b, 3, "span_id", e.spanID)
	}
	return b
}

// A timestamp's fields are left out when zero, as proto3 encoders do.
func timestampSize(t time.Time) int {
	n := 0
	if sec := t.Unix(); sec != 0 {
		n += 1 + protowire.SizeVarint(uint64(sec))
	}
	if ns := t.Nanosecond(); ns != 0 {
		n += 1 + protowire.SizeVarint(uint64(ns))
	}
	return n
}

func appendTimestamp(b []byte, t time.Time) []byte {
	if sec := t.Unix(); sec != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(sec))
	}
	if ns := t.Nanosecond(); ns != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(ns))
	}
	return b
}

func labelPairSize(name, value string) int {
	return 1 + protowire.SizeBytes(len(name)) + 1 + protowire.SizeBytes(len(value))
}

func appendLabelPair(b []byte, field protowire.Number, name, value string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(labelPairSize(name, value)))
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendString(b, value)
}
