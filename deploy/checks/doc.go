// Package checks holds the tests that prove the Docker stack's configuration without running
// Docker: compose.yaml loads and every file it needs exists, the Prometheus config and rules
// pass promtool, every query names metrics that exist, every data source a dashboard uses is
// provisioned, the signals link to each other, and the Loki and Tempo files use documented keys.
//
// Run them with `cd deploy && go test ./...` (`make deploy-check`).
package checks
