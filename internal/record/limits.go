package record

// Table Storage's limits (docs/reference.md, "Table Storage limits"), checked
// before a request is sent: a request the service would refuse for our own
// data is an internal error, never a retry.

import (
	"fmt"
	"regexp"
	"sync"
	"unicode/utf16"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	// MaxFilterComparisons is the most comparisons one $filter may hold.
	MaxFilterComparisons = 15
	// maxStringUnits is the most UTF-16 code units of a string property (64 KiB).
	maxStringUnits = 32 << 10
	// maxTransactionOps is the most operations of an entity group transaction.
	maxTransactionOps = 100
	// maxTransactionBytes is the most bytes of an entity group transaction's body.
	maxTransactionBytes = 4 << 20
	// transactionOpOverhead bounds the multipart headers of one operation.
	transactionOpOverhead = 1 << 10
)

// filterREs are the regexps that find the comparison operators of an OData
// filter outside string literals (literals are removed first), compiled on
// first use: no regexp is compiled at package init.
var filterREs = sync.OnceValues(func() (comparison, literal *regexp.Regexp) {
	return regexp.MustCompile(`\s(eq|ne|gt|ge|lt|le)\s`), regexp.MustCompile(`'(?:[^']|'')*'`)
})

// comparisons counts the comparisons of filter.
func comparisons(filter string) int {
	comparisonRE, literalRE := filterREs()
	return len(comparisonRE.FindAllStringIndex(literalRE.ReplaceAllString(filter, "''"), -1))
}

// checkFilter refuses a filter with more comparisons than Table Storage allows.
func checkFilter(filter string) error {
	if n := comparisons(filter); n > MaxFilterComparisons {
		return &pal.Error{Code: pal.CodeInternal, Message: fmt.Sprintf("record: a query of %d comparisons (Table Storage allows %d)", n, MaxFilterComparisons)}
	}
	return nil
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// checkString refuses a string property longer than Table Storage keeps.
func checkString(field, s string) error {
	if len(s) > maxStringUnits/2 && utf16Len(s) > maxStringUnits { // a UTF-8 byte is at most one UTF-16 unit
		return invalid(field, fmt.Sprintf("is longer than Table Storage's %d UTF-16 characters", maxStringUnits))
	}
	return nil
}

// checkTransaction refuses a transaction Table Storage would refuse for its
// size: more than 100 operations, or a body of more than 4 MiB.
func checkTransaction(actions []aztables.TransactionAction) error {
	if len(actions) > maxTransactionOps {
		return &pal.Error{Code: pal.CodeInternal, Message: fmt.Sprintf("record: a transaction of %d operations (Table Storage allows %d)", len(actions), maxTransactionOps)}
	}
	n := 0
	for _, a := range actions {
		n += len(a.Entity) + transactionOpOverhead
	}
	if n > maxTransactionBytes {
		return &pal.Error{Code: pal.CodeInternal, Message: fmt.Sprintf("record: a transaction of about %d bytes (Table Storage allows 4 MiB)", n)}
	}
	return nil
}

// verdictCost estimates the bytes a verdict and its change row take in a
// transaction, so that SaveAll's chunks stay within 4 MiB.
func verdictCost(v Verdict) int {
	// json.Marshal writes a byte as at most 6 (\u00XX).
	n := 2*transactionOpOverhead + 6*(len(v.DisplayName)+2*len(v.Detail))
	for _, r := range v.Roles {
		n += 6*len(r) + 1
	}
	return n
}
