package drill

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/pillars-o11y/pillars/internal/scenarios"
)

// Files of the state directory. The directory is the only place the answer key is kept: it
// is 0700, its files 0600, and no service reads it.
const (
	episodeFile = "episode.json"  // the current or last episode, with its key
	resultsFile = "results.jsonl" // one Result a line: every graded or void episode
)

// States of an episode.
const (
	StateStarting  = "starting" // the fault is not applied yet, or its symptoms not seen yet
	StateReady     = "ready"    // the symptoms were seen: diagnose now
	StateVoid      = "void"     // the fault never showed: not scored
	StateAnswered  = "answered" // graded; the key may be revealed
	StateAbandoned = "abandoned"
)

// record is the state file of an episode.
type record struct {
	ID         string             `json:"id"`
	Episode    Episode            `json:"episode"`
	Timescale  float64            `json:"timescale"`
	State      string             `json:"state"`
	Started    time.Time          `json:"started"`
	Ready      time.Time          `json:"ready,omitzero"`
	VoidReason string             `json:"void_reason,omitempty"`
	Manifest   []scenarios.Result `json:"manifest,omitempty"`
	Result     *Result            `json:"result,omitempty"`
	// Traffic is the frontend's traffic before the episode, put back at its end.
	Traffic json.RawMessage `json:"traffic,omitempty"`
}

func (r *record) active() bool { return r.State == StateStarting || r.State == StateReady }

// Result is one episode's outcome: graded, or void with the reason.
type Result struct {
	ID          string     `json:"id"`
	Seed        int64      `json:"seed"`
	Family      string     `json:"family"` // "" for no incident
	Distractors []string   `json:"distractors,omitempty"`
	Key         Key        `json:"key"`
	Diagnosis   *Diagnosis `json:"diagnosis,omitempty"`
	Grade       *Grade     `json:"grade,omitempty"`
	Void        bool       `json:"void,omitempty"`
	VoidReason  string     `json:"void_reason,omitempty"`
	// Unanswered: the agent gave no answer within its budget (0 points).
	Unanswered bool      `json:"unanswered,omitempty"`
	Started    time.Time `json:"started"`
	At         time.Time `json:"at"`
}

type store struct{ dir string }

func (s store) init() error { return os.MkdirAll(s.dir, 0o700) }

func (s store) load() (*record, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, episodeFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoEpisode
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", episodeFile, err)
	}
	return &r, nil
}

// save writes the record atomically (a reader never sees half of it), 0600.
func (s store) save(r *record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, episodeFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(s.dir, episodeFile))
}

func (s store) appendResult(res Result) error {
	f, err := os.OpenFile(filepath.Join(s.dir, resultsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	line, err := json.Marshal(res)
	if err != nil {
		f.Close()
		return err
	}
	_, err = f.Write(append(line, '\n'))
	return errors.Join(err, f.Close())
}

func (s store) results() ([]Result, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, resultsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Result
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", resultsFile, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
