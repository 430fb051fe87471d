package telemetry

import (
	"fmt"
	"strings"
)

// OTLP protocols, as OTEL_EXPORTER_OTLP_[SIGNAL_]PROTOCOL names them.
const (
	protocolHTTP = "http/protobuf"
	protocolGRPC = "grpc"
)

// otlpTarget resolves where one signal is exported, the way the specification's variables
// combine: the signal's own endpoint is a full URL used as is; otherwise the base endpoint
// (default http://localhost:4318, or :4317 for grpc) with /v1/<signal> appended for HTTP.
// It returns the protocol and the URL to give the exporter's WithEndpointURL.
func otlpTarget(protocol, signalEndpoint, baseEndpoint, signal string) (string, string, error) {
	if protocol == "" {
		protocol = protocolHTTP
	}
	switch protocol {
	case protocolGRPC:
		url := firstOf(signalEndpoint, baseEndpoint, "http://localhost:4317")
		return protocol, url, nil
	case protocolHTTP:
		if signalEndpoint != "" {
			return protocol, signalEndpoint, nil
		}
		base := firstOf(baseEndpoint, "http://localhost:4318")
		return protocol, strings.TrimSuffix(base, "/") + "/v1/" + signal, nil
	case "http/json":
		// The specification makes JSON optional, and the Go SDK's exporters speak protobuf
		// only: accepting the value and sending protobuf would surprise a receiver that was
		// set up for JSON.
		return "", "", fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported by the Go SDK's exporter: use http/protobuf or grpc", protocol)
	default:
		return "", "", fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want http/protobuf or grpc", protocol)
	}
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
