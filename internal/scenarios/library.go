package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Library is a set of scenarios, by name.
type Library struct {
	list   []*Scenario // sorted by name
	byName map[string]*Scenario
}

// Load reads every *.yaml file of fsys (its top folder) as a scenario. A file's name must be
// its scenario's name; every mistake of every file is reported, each with file and line.
func Load(fsys fs.FS) (*Library, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no scenario files (*.yaml) found")
	}
	lib := &Library{byName: map[string]*Scenario{}}
	var errs []error
	for _, file := range names {
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sc, err := Parse(file, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if want := strings.TrimSuffix(path.Base(file), ".yaml"); sc.Name != want {
			errs = append(errs, fmt.Errorf("%s: the scenario is named %q: name the file %s.yaml, or the scenario %q", file, sc.Name, sc.Name, want))
			continue
		}
		lib.byName[sc.Name] = sc
		lib.list = append(lib.list, sc)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(lib.list, func(a, b *Scenario) int { return strings.Compare(a.Name, b.Name) })
	return lib, nil
}

// List returns the scenarios, sorted by name.
func (l *Library) List() []*Scenario { return slices.Clone(l.list) }

// Names lists the scenarios' names, sorted.
func (l *Library) Names() []string {
	out := make([]string, len(l.list))
	for i, s := range l.list {
		out[i] = s.Name
	}
	return out
}

// Get returns the scenario of that name; an unknown name is an error that lists the known ones.
func (l *Library) Get(name string) (*Scenario, error) {
	if sc, ok := l.byName[name]; ok {
		return sc, nil
	}
	return nil, &UnknownError{Name: name, Known: l.Names()}
}

// UnknownError is a scenario name that is not in the library.
type UnknownError struct {
	Name  string
	Known []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown scenario %q: the scenarios are %s", cut(e.Name, 64), strings.Join(e.Known, ", "))
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
