package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/acme/employee-tracking"

// rule says which of our packages a package may import.
type rule struct {
	name string
	// applies says whether the rule binds package pkg (relative to the
	// module root, e.g. "app/command").
	applies func(pkg string) bool
	// allowed says whether pkg may import dep (both relative).
	allowed func(pkg, dep string) bool
}

func under(prefix string) func(string) bool {
	return func(p string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
}

var rules = []rule{
	{
		name:    "domain imports nothing of ours but domain",
		applies: under("domain"),
		allowed: func(_, dep string) bool { return under("domain")(dep) },
	},
	{
		name:    "app imports only app, domain, the event store's types and internal/recent",
		applies: under("app"),
		allowed: func(_, dep string) bool {
			return under("app")(dep) || under("domain")(dep) || dep == "eventstore" || dep == "internal/recent"
		},
	},
	{
		name:    "http imports neither eventstore nor internal/config",
		applies: under("http"),
		allowed: func(_, dep string) bool { return dep != "eventstore" && dep != "internal/config" },
	},
	{
		name:    "projections never imports http",
		applies: under("projections"),
		allowed: func(_, dep string) bool { return !under("http")(dep) },
	},
	{
		name:    "http reads the read models through app, never from projections/readmodel",
		applies: under("http"),
		allowed: func(_, dep string) bool { return !under("projections/readmodel")(dep) },
	},
	{
		name: "the read models, the sagas and the poison mark never import the runtime, the bus or the relay of projections",
		applies: func(pkg string) bool {
			return under("projections/readmodel")(pkg) || under("projections/saga")(pkg) || under("projections/poison")(pkg)
		},
		allowed: func(_, dep string) bool { return dep != "projections" },
	},
	{
		name:    "the bus adapter imports neither http, app, nor the read models, the sagas or the runtime",
		applies: under("projections/bus"),
		allowed: func(_, dep string) bool {
			return !under("http")(dep) && !under("app")(dep) && !under("projections/readmodel")(dep) &&
				!under("projections/saga")(dep) && dep != "projections"
		},
	},
	{
		name:    "the relay imports neither http, app, the read models, the sagas nor the runtime",
		applies: under("projections/relay"),
		allowed: func(_, dep string) bool {
			return !under("http")(dep) && !under("app")(dep) && !under("projections/readmodel")(dep) &&
				!under("projections/saga")(dep) && dep != "projections"
		},
	},
	{
		name: "the read models and the sagas never import the bus",
		applies: func(pkg string) bool {
			return under("projections/readmodel")(pkg) || under("projections/saga")(pkg)
		},
		allowed: func(_, dep string) bool { return !under("projections/bus")(dep) },
	},
	{
		name:    "app never imports projections",
		applies: under("app"),
		allowed: func(_, dep string) bool { return !under("projections")(dep) },
	},
	{
		name:    "nothing outside cmd imports cmd",
		applies: func(pkg string) bool { return !under("cmd")(pkg) },
		allowed: func(_, dep string) bool { return !under("cmd")(dep) },
	},
	{
		name: "nothing below cmd imports internal/config",
		applies: func(pkg string) bool {
			return !under("cmd")(pkg) && pkg != "internal/config"
		},
		allowed: func(_, dep string) bool { return dep != "internal/config" },
	},
	{
		name:    "only internal/eventcodec builds a codec of the catalog, so every codec has its upcasters",
		applies: func(pkg string) bool { return pkg != "internal/eventcodec" },
		allowed: func(_, dep string) bool { return dep != "domain/catalog" },
	},
}

// TestDependencyRules fails naming every import, outside tests, that breaks
// a rule.
func TestDependencyRules(t *testing.T) {
	t.Parallel()
	imports := ourImports(t, moduleRoot(t))
	for _, must := range []string{"domain/leave", "app/command", "http", "cmd/server"} {
		if _, ok := imports[must]; !ok {
			t.Fatalf("package %s not found: the test reads the wrong tree", must)
		}
	}
	pkgs := make([]string, 0, len(imports))
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, r := range rules {
		for _, pkg := range pkgs {
			if !r.applies(pkg) {
				continue
			}
			for _, dep := range imports[pkg] {
				if !r.allowed(pkg, dep) {
					t.Errorf("%s imports %s, but %s", pkg, dep, r.name)
				}
			}
		}
	}
}

// TestRulesCatchABreak: a rule that lets everything through tests nothing.
func TestRulesCatchABreak(t *testing.T) {
	t.Parallel()
	breaks := []struct{ pkg, dep string }{
		{"domain/leave", "eventstore"},
		{"app/command", "http"},
		{"app/command", "projections"},
		{"app/command", "internal/config"},
		{"http", "eventstore"},
		{"http", "internal/config"},
		{"projections", "cmd/server"},
		{"projections", "http"},
		{"projections/readmodel", "http"},
		{"projections", "internal/config"},
		{"projections/readmodel", "projections"},
		{"projections/saga", "projections"},
		{"projections/bus", "http"},
		{"projections/bus", "app/query"},
		{"projections/bus", "projections/readmodel"},
		{"projections/bus", "projections"},
		{"projections/relay", "http"},
		{"projections/relay", "app/command"},
		{"projections/relay", "projections/readmodel"},
		{"projections/relay", "projections/saga"},
		{"projections/relay", "projections"},
		{"projections/readmodel", "projections/bus"},
		{"projections/saga", "projections/bus"},
		{"app/query", "projections/readmodel"},
		{"http", "projections/readmodel"},
		{"eventstore", "internal/config"},
		{"cmd/internal/startup", "domain/catalog"},
	}
	for _, b := range breaks {
		caught := false
		for _, r := range rules {
			if r.applies(b.pkg) && !r.allowed(b.pkg, b.dep) {
				caught = true
			}
		}
		if !caught {
			t.Errorf("no rule refuses %s importing %s", b.pkg, b.dep)
		}
	}
}

// moduleRoot is the directory of go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// ourImports maps each package of the module (relative to root) to the
// packages of the module its non-test files import.
func ourImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, spec := range f.Imports {
			dep, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if dep != module && !strings.HasPrefix(dep, module+"/") {
				continue
			}
			dep = strings.TrimPrefix(strings.TrimPrefix(dep, module), "/")
			if !slices.Contains(out[pkg], dep) {
				out[pkg] = append(out[pkg], path.Clean(dep))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
