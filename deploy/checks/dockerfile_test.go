package checks

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// parseDockerfile parses the Dockerfile with BuildKit's own parser and its build checks
// (the ones `docker build --check` runs); any warning fails the test.
func parseDockerfile(t *testing.T) []instructions.Stage {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(readFile(t, "Dockerfile")))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, desc, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		t.Errorf("Dockerfile:%d: build check %s: %s", line, rule, msg)
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	return stages
}

// A static build in a Go image matching go.mod, cross-compiled for the target platform, into a
// distroless image that runs as a non-root user.
func TestDockerfileBuildsAStaticNonRootImage(t *testing.T) {
	stages := parseDockerfile(t)
	if len(stages) != 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	build, runtime := stages[0], stages[1]

	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(readFile(t, "go.mod"))
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	if want := "golang:" + string(goVersion[1]); build.BaseName != want {
		t.Errorf("build stage FROM %s, want %s (the Go version go.mod names)", build.BaseName, want)
	}
	if build.Platform != "$BUILDPLATFORM" {
		t.Errorf("build stage platform %q: cross-compile from $BUILDPLATFORM instead of emulating the target", build.Platform)
	}
	var buildScript string
	var args []string
	for _, c := range build.Commands {
		switch c := c.(type) {
		case *instructions.RunCommand:
			buildScript += strings.Join(c.CmdLine, " ") + "\n"
		case *instructions.ArgCommand:
			for _, a := range c.Args {
				args = append(args, a.Key)
			}
		}
	}
	for _, want := range []string{"TARGETOS", "TARGETARCH"} {
		if !slices.Contains(args, want) {
			t.Errorf("build stage does not declare ARG %s", want)
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH", "./cmd/pillars"} {
		if !strings.Contains(buildScript, want) {
			t.Errorf("build stage never runs %q", want)
		}
	}

	if !strings.HasPrefix(runtime.BaseName, "gcr.io/distroless/static") || !strings.HasSuffix(runtime.BaseName, ":nonroot") {
		t.Errorf("runtime FROM %s, want a distroless static :nonroot image", runtime.BaseName)
	}
	var user string
	var entrypoint []string
	for _, c := range runtime.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			entrypoint = c.CmdLine
			if c.PrependShell {
				t.Error("ENTRYPOINT in shell form: the runtime image has no shell")
			}
		}
	}
	if user == "" || strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0") {
		t.Errorf("runtime USER %q, want a non-root user", user)
	}
	if !slices.Equal(entrypoint, []string{"/pillars"}) {
		t.Errorf("ENTRYPOINT %v, want [/pillars] (compose passes the command)", entrypoint)
	}
}

// Everything the Dockerfile copies from the build context exists and is let in by .dockerignore.
func TestDockerfileSourcesAreInTheBuildContext(t *testing.T) {
	allowed := dockerignoreAllowlist(t)
	copies := 0
	for _, stage := range parseDockerfile(t) {
		for _, c := range stage.Commands {
			cp, ok := c.(*instructions.CopyCommand)
			if !ok || cp.From != "" {
				continue
			}
			for _, src := range cp.SourcePaths {
				copies++
				src = strings.TrimSuffix(src, "/")
				if _, err := os.Stat(path(t, src)); err != nil {
					t.Errorf("Dockerfile copies %s, which is not in the repository: %v", src, err)
				}
				if !allowed[src] {
					t.Errorf("Dockerfile copies %s, but .dockerignore keeps it out of the build context", src)
				}
			}
		}
	}
	if copies == 0 {
		t.Fatal("found no COPY from the build context in the Dockerfile")
	}
}
