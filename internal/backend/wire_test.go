package backend

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	modulePath   = "github.com/pillars-o11y/pillars/"
	databasePath = modulePath + "internal/database"
)

// The backend owns the types it answers with: nothing a caller of this package can reach (an
// exported type, its exported fields, the signatures of its exported methods, and so on down)
// is a type of the database service. A database schema change then changes the backend's API
// only where rows.go maps it. Every exported type of the package must be in the table below,
// so that a new one is checked too.
func TestExportedTypesHoldNoDatabaseTypes(t *testing.T) {
	exported := map[string]reflect.Type{
		"Config":          reflect.TypeFor[Config](),
		"Service":         reflect.TypeFor[Service](),
		"Client":          reflect.TypeFor[Client](),
		"UserResponse":    reflect.TypeFor[UserResponse](),
		"User":            reflect.TypeFor[User](),
		"ProductResponse": reflect.TypeFor[ProductResponse](),
		"Product":         reflect.TypeFor[Product](),
		"WarehouseStock":  reflect.TypeFor[WarehouseStock](),
		"Pricing":         reflect.TypeFor[Pricing](),
		"DataResponse":    reflect.TypeFor[DataResponse](),
		"TopProduct":      reflect.TypeFor[TopProduct](),
		"CategorySummary": reflect.TypeFor[CategorySummary](),
	}
	for _, name := range exportedTypeNames(t, ".") {
		if _, ok := exported[name]; !ok {
			t.Errorf("exported type %s is not in this test's table: add it, so that it is checked", name)
		}
	}
	w := apiWalk{seen: map[reflect.Type]bool{}}
	for name, typ := range exported {
		w.walk(t, typ, name)
	}
}

// exportedTypeNames lists the exported types declared in the package's non-test files.
func exportedTypeNames(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				if ts := s.(*ast.TypeSpec); ts.Name.IsExported() {
					names = append(names, ts.Name.Name)
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("no exported types found: is the test run in the package's directory?")
	}
	return names
}

// apiWalk follows what a caller can reach from a type: exported fields, elements, keys,
// function signatures and exported methods, through this module's types (others, such as
// net/http's, are the standard's and end the walk).
type apiWalk struct{ seen map[reflect.Type]bool }

func (w apiWalk) walk(t *testing.T, typ reflect.Type, path string) {
	t.Helper()
	if w.seen[typ] {
		return
	}
	w.seen[typ] = true
	if pkg := typ.PkgPath(); typ.Name() != "" && pkg != "" {
		if pkg == databasePath || strings.HasPrefix(pkg, databasePath+"/") {
			t.Errorf("%s is %s, a type of the database service", path, typ)
			return
		}
		if !strings.HasPrefix(pkg, modulePath) {
			return
		}
	}
	switch typ.Kind() {
	case reflect.Struct:
		for i := range typ.NumField() {
			if f := typ.Field(i); f.IsExported() {
				w.walk(t, f.Type, path+"."+f.Name)
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
		w.walk(t, typ.Elem(), path+"[]")
	case reflect.Map:
		w.walk(t, typ.Key(), path+"[key]")
		w.walk(t, typ.Elem(), path+"[]")
	case reflect.Func:
		for i := range typ.NumIn() {
			w.walk(t, typ.In(i), path+"(in)")
		}
		for i := range typ.NumOut() {
			w.walk(t, typ.Out(i), path+"(out)")
		}
	}
	if typ.Kind() == reflect.Interface {
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			w.walk(t, m.Type, path+"."+m.Name)
		}
		return
	}
	if typ.Kind() != reflect.Pointer {
		ptr := reflect.PointerTo(typ)
		for i := range ptr.NumMethod() {
			m := ptr.Method(i)
			w.walk(t, m.Type, path+"."+m.Name) // the receiver is the type itself, already seen
		}
	}
}
