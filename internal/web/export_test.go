package web

// The browser test (package web_test, which may import trigger) uses the
// same record fakes as the unit tests.

// EstateRecord is the record after two sweeps of the test estate.
func EstateRecord() Reader { return estateRecord() }

// EstateDirectory names Contoso, not Fabrikam; the identity is linked to 1234567.
func EstateDirectory() Directory { return estateDirectory() }

// BigRecord is a record of n subscriptions over n/20 tenants.
func BigRecord(n int) Reader { return bigRecord(n) }

// Test estate IDs.
const (
	TenantContoso  = tenantContoso
	TenantFabrikam = tenantFabrikam
	SubAttributed  = subAttributed
	SubReader      = subReader
)
