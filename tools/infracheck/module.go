package infracheck

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Module is one Terraform module: the top-level blocks of every .tf file of a
// directory, parsed with the HCL native syntax parser.
type Module struct {
	Dir    string
	Blocks []*hclsyntax.Block
	src    map[string][]byte // file name → source, for quoting expressions
}

// LoadModule parses every .tf file of dir. Any HCL syntax error fails the load;
// the error lists every diagnostic with its file and line.
func LoadModule(dir string) (*Module, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no .tf files", dir)
	}
	sort.Strings(paths)
	p := hclparse.NewParser()
	m := &Module{Dir: dir}
	var diags hcl.Diagnostics
	for _, path := range paths {
		f, d := p.ParseHCLFile(path)
		diags = append(diags, d...)
		if f == nil {
			continue
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			return nil, fmt.Errorf("%s: not HCL native syntax", path)
		}
		for _, a := range body.Attributes {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "attribute outside a block: " + a.Name, Subject: a.SrcRange.Ptr()})
		}
		m.Blocks = append(m.Blocks, body.Blocks...)
	}
	if diags.HasErrors() {
		return nil, errors.New(diags.Error())
	}
	m.src = p.Sources()
	return m, nil
}

// blocks returns the top-level blocks of type typ whose labels start with labels.
func (m *Module) blocks(typ string, labels ...string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range m.Blocks {
		if b.Type == typ && hasLabels(b, labels) {
			out = append(out, b)
		}
	}
	return out
}

// block returns the one top-level block of type typ with exactly these labels, or nil.
func (m *Module) block(typ string, labels ...string) *hclsyntax.Block {
	for _, b := range m.blocks(typ, labels...) {
		if len(b.Labels) == len(labels) {
			return b
		}
	}
	return nil
}

func hasLabels(b *hclsyntax.Block, labels []string) bool {
	if len(b.Labels) < len(labels) {
		return false
	}
	for i, l := range labels {
		if b.Labels[i] != l {
			return false
		}
	}
	return true
}

// resources returns the resource blocks of one type.
func (m *Module) resources(typ string) []*hclsyntax.Block { return m.blocks("resource", typ) }

// address is "type.name" of a resource block.
func address(b *hclsyntax.Block) string { return strings.Join(b.Labels, ".") }

// text returns the source of a node, for messages and textual checks.
func (m *Module) text(rng hcl.Range) string {
	return string(rng.SliceBytes(m.src[rng.Filename]))
}

// local returns the expression of local value name, or nil.
func (m *Module) local(name string) hclsyntax.Expression {
	for _, b := range m.blocks("locals") {
		if a := b.Body.Attributes[name]; a != nil {
			return a.Expr
		}
	}
	return nil
}

// resolve returns the value of expr when it is a constant, or a reference to a
// local value that is a constant.
func (m *Module) resolve(expr hclsyntax.Expression) (cty.Value, bool) {
	if v, ok := constant(expr); ok {
		return v, true
	}
	if rs := refs(expr); len(rs) == 1 && strings.HasPrefix(rs[0], "local.") {
		if l := m.local(strings.TrimPrefix(rs[0], "local.")); l != nil {
			return constant(l)
		}
	}
	return cty.NilVal, false
}

// where is "file:line" of a range.
func where(rng hcl.Range) string { return fmt.Sprintf("%s:%d", rng.Filename, rng.Start.Line) }

// attr returns the attribute name of body, or nil.
func attr(body *hclsyntax.Body, name string) *hclsyntax.Attribute {
	if body == nil {
		return nil
	}
	return body.Attributes[name]
}

// subBlocks returns the nested blocks of body of one type.
func subBlocks(body *hclsyntax.Body, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}

// constant evaluates expr when it needs no variables and no functions.
func constant(expr hclsyntax.Expression) (cty.Value, bool) {
	if expr == nil || len(expr.Variables()) > 0 {
		return cty.NilVal, false
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return v, true
}

// constString returns the string value of a constant expression.
func constString(expr hclsyntax.Expression) (string, bool) {
	v, ok := constant(expr)
	if !ok || v.IsNull() {
		return "", false
	}
	v, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", false
	}
	return v.AsString(), true
}

// attrString is constString of body's attribute name.
func attrString(body *hclsyntax.Body, name string) (string, bool) {
	a := attr(body, name)
	if a == nil {
		return "", false
	}
	return constString(a.Expr)
}

// attrBool returns the constant bool of body's attribute name.
func attrBool(body *hclsyntax.Body, name string) (value, ok bool) {
	a := attr(body, name)
	if a == nil {
		return false, false
	}
	v, ok := constant(a.Expr)
	if !ok || v.IsNull() || !v.Type().Equals(cty.Bool) {
		return false, false
	}
	return v.True(), true
}

// refs lists the references of expr as dotted paths without indexes:
// "var.name", "local.name", "azurerm_x.y.attr".
func refs(expr hcl.Expression) []string {
	if expr == nil {
		return nil
	}
	var out []string
	for _, t := range expr.Variables() {
		var parts []string
	steps:
		for _, step := range t {
			switch s := step.(type) {
			case hcl.TraverseRoot:
				parts = append(parts, s.Name)
			case hcl.TraverseAttr:
				parts = append(parts, s.Name)
			default:
				break steps
			}
		}
		out = append(out, strings.Join(parts, "."))
	}
	return out
}

// refersTo reports whether expr refers to target (a dotted path) or something in it.
func refersTo(expr hcl.Expression, target string) bool {
	for _, r := range refs(expr) {
		if r == target || strings.HasPrefix(r, target+".") {
			return true
		}
	}
	return false
}

// objectItems returns the items of an object constructor expression ({ k = v })
// by key.
func objectItems(expr hclsyntax.Expression) (map[string]hclsyntax.Expression, bool) {
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil, false
	}
	items := make(map[string]hclsyntax.Expression, len(obj.Items))
	for _, it := range obj.Items {
		key := hcl.ExprAsKeyword(it.KeyExpr)
		if key == "" {
			v, diags := it.KeyExpr.Value(nil)
			if diags.HasErrors() || !v.Type().Equals(cty.String) || v.IsNull() {
				return nil, false
			}
			key = v.AsString()
		}
		items[key] = it.ValueExpr
	}
	return items, true
}

// walkAttributes calls fn for every attribute in body and its nested blocks.
func walkAttributes(body *hclsyntax.Body, fn func(*hclsyntax.Attribute)) {
	names := make([]string, 0, len(body.Attributes))
	for n := range body.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fn(body.Attributes[n])
	}
	for _, b := range body.Blocks {
		walkAttributes(b.Body, fn)
	}
}

// variable returns the variable block name, or nil.
func (m *Module) variable(name string) *hclsyntax.Block { return m.block("variable", name) }

// Validate converts value to the declared type of variable name, applying
// optional-attribute defaults, and evaluates the variable's validation blocks
// the way Terraform does. It returns why the value is rejected (type
// conversion failure, or the error_message of each failed validation); none
// means accepted. The error is for a variable that does not exist or cannot be
// evaluated at all.
func (m *Module) Validate(name string, value cty.Value) ([]string, error) {
	v := m.variable(name)
	if v == nil {
		return nil, fmt.Errorf("%s: no variable %q", m.Dir, name)
	}
	if t := attr(v.Body, "type"); t != nil {
		ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(t.Expr)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: variable %q: %s", where(t.SrcRange), name, diags.Error())
		}
		if defaults != nil && !value.IsNull() {
			value = defaults.Apply(value)
		}
		converted, err := convert.Convert(value, ty)
		if err != nil {
			return []string{fmt.Sprintf("not a %s: %v", typeexpr.TypeString(ty), err)}, nil
		}
		value = converted
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{name: value})},
		Functions: terraformFunctions,
	}
	var rejected []string
	for _, val := range subBlocks(v.Body, "validation") {
		cond := attr(val.Body, "condition")
		if cond == nil {
			return nil, fmt.Errorf("%s: validation of %q has no condition", where(val.DefRange()), name)
		}
		ok, diags := cond.Expr.Value(ctx)
		if diags.HasErrors() {
			rejected = append(rejected, "condition failed: "+diags.Error())
			continue
		}
		ok, err := convert.Convert(ok, cty.Bool)
		if err != nil || ok.IsNull() || !ok.IsKnown() {
			rejected = append(rejected, fmt.Sprintf("%s: condition is not a bool", where(cond.SrcRange)))
			continue
		}
		if ok.True() {
			continue
		}
		msg := "(no error_message)"
		if em := attr(val.Body, "error_message"); em != nil {
			if s, diags := em.Expr.Value(ctx); !diags.HasErrors() && s.Type().Equals(cty.String) && !s.IsNull() {
				msg = s.AsString()
			}
		}
		rejected = append(rejected, msg)
	}
	return rejected, nil
}

// variableCase is a value (HCL expression source) a variable's type and
// validations must accept or reject.
type variableCase struct {
	variable string
	value    string
	accept   bool
}

// checkVariableCases evaluates every case against m's validations.
func checkVariableCases(m *Module, cases []variableCase, p *problems) {
	for _, c := range cases {
		v := m.variable(c.variable)
		if v == nil {
			p.addf(m.Dir, "variable %q is missing", c.variable)
			continue
		}
		expr, diags := hclsyntax.ParseExpression([]byte(c.value), "case", hcl.InitialPos)
		if diags.HasErrors() {
			p.addf(m.Dir, "test value %s of %s: %s", c.value, c.variable, diags.Error())
			continue
		}
		val, diags := expr.Value(nil)
		if diags.HasErrors() {
			p.addf(m.Dir, "test value %s of %s: %s", c.value, c.variable, diags.Error())
			continue
		}
		rejected, err := m.Validate(c.variable, val)
		switch {
		case err != nil:
			p.add(err)
		case c.accept && len(rejected) > 0:
			p.addf(where(v.DefRange()), "variable %s rejects %s, want it accepted: %s", c.variable, c.value, strings.Join(rejected, "; "))
		case !c.accept && len(rejected) == 0:
			p.addf(where(v.DefRange()), "variable %s accepts %s, want it rejected by its type or validation", c.variable, c.value)
		}
	}
}

// checkVariableDeclarations requires a type and a description on every variable.
func checkVariableDeclarations(m *Module, p *problems) {
	for _, v := range m.blocks("variable") {
		if attr(v.Body, "type") == nil {
			p.addf(where(v.DefRange()), "variable %s has no type", v.Labels[0])
		}
		if d, ok := attrString(v.Body, "description"); !ok || strings.TrimSpace(d) == "" {
			p.addf(where(v.DefRange()), "variable %s has no description", v.Labels[0])
		}
	}
}

// problems collects broken invariants.
type problems []error

func (p *problems) add(err error) { *p = append(*p, err) }

func (p *problems) addf(at, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...)))
}
