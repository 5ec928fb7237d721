package infracheck

import (
	"errors"
	"strings"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// terraformFunctions are the Terraform functions variable validations may use,
// with Terraform's semantics. A validation calling any other function fails to
// evaluate, and the check reports it: add the function here.
var terraformFunctions = map[string]function.Function{
	"alltrue":     boolListFunc(true),
	"anytrue":     boolListFunc(false),
	"can":         tryfunc.CanFunc,
	"coalesce":    stdlib.CoalesceFunc,
	"contains":    stdlib.ContainsFunc,
	"distinct":    stdlib.DistinctFunc,
	"endswith":    stringPredicate(strings.HasSuffix),
	"floor":       stdlib.FloorFunc,
	"index":       indexFunc,
	"join":        stdlib.JoinFunc,
	"length":      lengthFunc,
	"lower":       stdlib.LowerFunc,
	"regex":       stdlib.RegexFunc,
	"split":       stdlib.SplitFunc,
	"startswith":  stringPredicate(strings.HasPrefix),
	"strcontains": stringPredicate(strings.Contains),
	"tonumber":    tonumberFunc,
	"trimspace":   stdlib.TrimSpaceFunc,
	"try":         tryfunc.TryFunc,
	"upper":       stdlib.UpperFunc,
}

// boolListFunc is alltrue (all) or anytrue (!all).
func boolListFunc(all bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				if v.IsNull() {
					return cty.False, nil
				}
				if v.True() != all {
					return cty.BoolVal(!all), nil
				}
			}
			return cty.BoolVal(all), nil
		},
	})
}

// stringPredicate is startswith, endswith or strcontains.
func stringPredicate(fn func(s, part string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "part", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(fn(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

// lengthFunc is Terraform's length: characters of a string, elements of a collection.
var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if args[0].Type().Equals(cty.String) {
			return stdlib.Strlen(args[0])
		}
		return stdlib.Length(args[0])
	},
})

// indexFunc is Terraform's index(list, value): the position of the first
// element equal to value, an error when there is none.
var indexFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "list", Type: cty.DynamicPseudoType},
		{Name: "value", Type: cty.DynamicPseudoType},
	},
	Type: function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if !args[0].Type().IsListType() && !args[0].Type().IsTupleType() {
			return cty.NilVal, errors.New("argument must be a list or tuple")
		}
		for it := args[0].ElementIterator(); it.Next(); {
			i, v := it.Element()
			if eq, err := stdlib.Equal(v, args[1]); err == nil && eq.True() {
				return i, nil
			}
		}
		return cty.NilVal, errors.New("item not found")
	},
})

// tonumberFunc is Terraform's tonumber: a number, or a string holding one.
var tonumberFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return convert.Convert(args[0], cty.Number)
	},
})
