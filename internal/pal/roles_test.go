package pal

import (
	"strings"
	"testing"
)

func TestJudgeRole(t *testing.T) {
	tests := []struct {
		def  RoleDefinition
		want bool
	}{
		{RoleDefinition{Name: "Contributor", BuiltIn: true}, true},
		{RoleDefinition{Name: "support request contributor", BuiltIn: true}, true},
		{RoleDefinition{Name: "Reader", BuiltIn: true}, false},
		{RoleDefinition{Name: "Billing Reader", BuiltIn: true}, false},
		{RoleDefinition{Name: "Managed Services Registration assignment Delete Role", BuiltIn: true}, false},
		{RoleDefinition{Name: "Some Future Data Reader", BuiltIn: true}, false},
		{RoleDefinition{Name: "Some Future Contributor", BuiltIn: true}, true},
		{RoleDefinition{Name: "Role Based Access Control Administrator", BuiltIn: true}, false},
		{RoleDefinition{Name: "Contributor", BuiltIn: false}, false},
	}
	for _, tt := range tests {
		got := judgeRole(tt.def)
		if got.Eligible != tt.want {
			t.Errorf("judgeRole(%+v) = %+v, want eligible %v", tt.def, got, tt.want)
		}
		if got.Reason == "" {
			t.Errorf("judgeRole(%+v) gave no reason", tt.def)
		}
	}
}

func TestWellKnownRolesAgreeWithTable(t *testing.T) {
	for id, name := range wellKnownRoles {
		v := judgeRole(RoleDefinition{ID: id, Name: name, BuiltIn: true})
		inTable := pecEligibleRoles()[strings.ToLower(name)] || pecIneligibleRoles()[strings.ToLower(name)]
		if !inTable {
			t.Errorf("well-known role %s %q is not in the PEC table", id, name)
		}
		_ = v
	}
}
