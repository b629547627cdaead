package saga

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// A saga's group decodes only the event types some saga names in On, so a
// type that React tells apart but On leaves out would never reach it, with
// no error anywhere. The package's source is the only place both show: each
// saga's On, as the on(...) call lists it, must name exactly the types its
// React (with the package's functions it passes the event to) takes
// e.Payload as.
func TestSagasNameEveryTypeTheyReactTo(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	funcs := map[string]*ast.FuncDecl{} // by name, methods and functions alike
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				funcs[fd.Name.Name] = fd
			}
		}
	}

	sagas := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			fields := keyed(lit)
			onCall, hasOn := fields["On"].(*ast.CallExpr)
			react, hasReact := fields["React"]
			if !hasOn || !hasReact {
				return true
			}
			sagas++
			name := exprText(fields["Name"])
			var named []string
			for _, arg := range onCall.Args {
				named = append(named, exprText(arg.(*ast.CompositeLit).Type))
			}
			handled := map[string]bool{}
			switch r := react.(type) {
			case *ast.SelectorExpr: // n.onSomething
				payloadTypes(funcs[r.Sel.Name].Body, funcs, handled, map[string]bool{})
			case *ast.FuncLit:
				payloadTypes(r.Body, funcs, handled, map[string]bool{})
			default:
				t.Errorf("%s: React is %T, which this test cannot read", name, react)
			}
			slices.Sort(named)
			if got := slices.Sorted(maps.Keys(handled)); !slices.Equal(got, named) {
				t.Errorf("%s: On names %v, React takes the payload as %v", name, named, got)
			}
			return true
		})
	}
	if sagas < 8 {
		t.Fatalf("found %d sagas in the package's source, want at least 8", sagas)
	}
}

// keyed returns the fields of a keyed composite literal by name.
func keyed(lit *ast.CompositeLit) map[string]ast.Expr {
	fields := map[string]ast.Expr{}
	for _, elt := range lit.Elts {
		if kv, ok := elt.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok {
				fields[k.Name] = kv.Value
			}
		}
	}
	return fields
}

// payloadTypes adds to types each type that body switches e.Payload on or
// asserts it to, following the calls that pass the event (an identifier
// named e) to a function or method of the package.
func payloadTypes(body *ast.BlockStmt, funcs map[string]*ast.FuncDecl, types, seen map[string]bool) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.TypeSwitchStmt:
			var assert *ast.TypeAssertExpr
			switch s := x.Assign.(type) {
			case *ast.AssignStmt:
				assert, _ = s.Rhs[0].(*ast.TypeAssertExpr)
			case *ast.ExprStmt:
				assert, _ = s.X.(*ast.TypeAssertExpr)
			}
			if assert == nil || !isPayload(assert.X) {
				return true
			}
			for _, c := range x.Body.List {
				for _, typ := range c.(*ast.CaseClause).List {
					types[exprText(typ)] = true
				}
			}
		case *ast.TypeAssertExpr:
			if x.Type != nil && isPayload(x.X) {
				types[exprText(x.Type)] = true
			}
		case *ast.CallExpr:
			callee := ""
			switch fn := x.Fun.(type) {
			case *ast.Ident:
				callee = fn.Name
			case *ast.SelectorExpr:
				callee = fn.Sel.Name
			}
			fd, ok := funcs[callee]
			if !ok || seen[callee] || !passesEvent(x) {
				return true
			}
			seen[callee] = true
			payloadTypes(fd.Body, funcs, types, seen)
		}
		return true
	})
}

func isPayload(x ast.Expr) bool {
	sel, ok := x.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Payload"
}

func passesEvent(call *ast.CallExpr) bool {
	for _, arg := range call.Args {
		if id, ok := arg.(*ast.Ident); ok && id.Name == "e" {
			return true
		}
	}
	return false
}

// exprText is x as written, for the names of types and constants.
func exprText(x ast.Expr) string {
	switch v := x.(type) {
	case *ast.Ident:
		return v.Name
	case *ast.SelectorExpr:
		return exprText(v.X) + "." + v.Sel.Name
	}
	return ""
}
