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

type lokiStream struct {
	labels  string // `{environment="dev", level="info", service="frontend"}`
	entries []lokiEntry
}

func appendPushRequest(b []byte, streams []lokiStream) []byte {
	var msg []byte
	for _, s := range streams {
		msg = appendStream(msg[:0], s)
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, msg)
	}
	return b
}

func appendStream(b []byte, s lokiStream) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, s.labels)
	var entry []byte
	for _, e := range s.entries {
		entry = appendEntry(entry[:0], e)
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, entry)
	}
	return b
}

func appendEntry(b []byte, e lokiEntry) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, appendTimestamp(nil, e.ts))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, e.line)
	if e.traceID != "" {
		b = appendLabelPair(b, 3, "trace_id", e.traceID)
		b = appendLabelPair(b, 3, "span_id", e.spanID)
	}
	return b
}

func appendTimestamp(b []byte, t time.Time) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.Unix()))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(t.Nanosecond()))
}

func appendLabelPair(b []byte, field protowire.Number, name, value string) []byte {
	var pair []byte
	pair = protowire.AppendTag(pair, 1, protowire.BytesType)
	pair = protowire.AppendString(pair, name)
	pair = protowire.AppendTag(pair, 2, protowire.BytesType)
	pair = protowire.AppendString(pair, value)
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, pair)
}
