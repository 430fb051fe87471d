package frontend

import (
	"errors"
	"net/http"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/scenarios"
)

// The frontend hosts the scenario runner: it is the one service that knows the others (the
// backend it calls, the database's admin API through DatabaseURL), and it owns the traffic,
// so that a console, chaos mode or a Helm value can start a scenario without a terminal.

// newRunner builds the runner over the frontend's own fault switch and traffic generator,
// and the admin APIs of the backend and, when its URL is known, the database.
func (s *Service) newRunner(cfg Config, own *faults.Switch[faults.Frontend]) (*scenarios.Runner, error) {
	// A plain client: the admin calls of a scenario are not part of any request's trace.
	admin := &http.Client{Timeout: 10 * time.Second}
	targets := map[string]scenarios.FaultTarget{
		"frontend": scenarios.SwitchTarget(own),
		"backend":  faults.NewAdminClient(cfg.BackendURL, cfg.Admin.Token, admin),
	}
	if cfg.DatabaseURL != "" {
		targets["database"] = faults.NewAdminClient(cfg.DatabaseURL, cfg.Admin.Token, admin)
	}
	r, err := scenarios.NewRunner(scenarios.RunnerConfig{
		Library: cfg.Scenarios,
		Faults:  targets,
		Traffic: s.traffic,
		Logger:  s.tel.Logger,
		// pillars_scenario_active names every scenario: absent in a drill (labels off).
		Registry: faults.LabelledRegisterer(s.tel.Registry, own.Labels()),
	})
	if err != nil {
		return nil, err
	}
	if cfg.Scenario != "" {
		if _, err := r.Start(scenarios.StartRequest{Name: cfg.Scenario}); err != nil {
			return nil, errors.New("scenario at start: " + err.Error())
		}
	}
	r.StartChaos(cfg.Chaos, cfg.ChaosBlind)
	return r, nil
}
