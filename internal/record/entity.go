package record

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Table layout (one table, see docs): every row's PartitionKey and RowKey.
const (
	// tenantPrefix + tenant ID is the partition of a tenant's verdicts and changes.
	tenantPrefix = "t_"
	// verdictPrefix + subscription ID is the row of a subscription's latest verdict.
	verdictPrefix = "v_"
	// changePrefix + inverted time + "_" + subscription ID + "_" + random is a
	// change row: a tenant's changes read newest first.
	changePrefix = "c_"
	// runPartition holds the runs.
	runPartition = "run"
	// runPrefix + run ID is a run's row.
	runPrefix = "r_"
	// startPrefix + inverted start time + "_" + run ID is a run's index row:
	// the first one is the last started run.
	startPrefix = "s_"
	// Kinds of rows (the Kind property).
	kindVerdict = "verdict"
	kindChange  = "change"
	kindRun     = "run"
	kindStart   = "runStart"
)

// OData type annotations of DateTime and Binary properties.
const (
	edmDateTime = "Edm.DateTime"
	edmBinary   = "Edm.Binary"
)

// inverted returns t as 19 digits that sort newest first.
func inverted(t time.Time) string {
	return fmt.Sprintf("%019d", math.MaxInt64-t.UnixNano())
}

// formatTime writes t as Table Storage writes DateTime values.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// parseTime reads a DateTime value; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return normTime(t), nil
}

// verdictEntity is a verdict row.
type verdictEntity struct {
	PartitionKey   string `json:"PartitionKey"`
	RowKey         string `json:"RowKey"`
	Kind           string `json:"Kind"`
	TenantID       string `json:"TenantId"`
	SubscriptionID string `json:"SubscriptionId"`
	DisplayName    string `json:"DisplayName"`
	Status         string `json:"Status"`
	// RoleNames is the roles as a JSON array (encodeRoles); Roles, ;-joined,
	// is only read, from rows written before.
	RoleNames     string `json:"RoleNames,omitempty"`
	Roles         string `json:"Roles,omitempty"`
	Detail        string `json:"Detail"`
	LinkPartnerID string `json:"LinkPartnerId"`
	LinkAction    string `json:"LinkAction"`
	CheckedAt     string `json:"CheckedAt"`
	CheckedAtType string `json:"CheckedAt@odata.type,omitempty"`
	CheckedBy     string `json:"CheckedBy"`
	Since         string `json:"Since"`
	SinceType     string `json:"Since@odata.type,omitempty"`
}

func verdictRow(v Verdict) verdictEntity {
	return verdictEntity{
		PartitionKey: tenantPrefix + v.TenantID, RowKey: verdictPrefix + v.SubscriptionID, Kind: kindVerdict,
		TenantID: v.TenantID, SubscriptionID: v.SubscriptionID, DisplayName: v.DisplayName,
		Status: string(v.Status), RoleNames: encodeRoles(v.Roles), Detail: v.Detail,
		LinkPartnerID: v.LinkPartnerID, LinkAction: string(v.LinkAction),
		CheckedAt: formatTime(v.CheckedAt), CheckedAtType: edmDateTime, CheckedBy: v.CheckedBy,
		Since: formatTime(v.Since), SinceType: edmDateTime,
	}
}

func (e verdictEntity) verdict() (Verdict, error) {
	v := Verdict{
		TenantID: e.TenantID, SubscriptionID: e.SubscriptionID, DisplayName: e.DisplayName,
		Status: pal.Status(e.Status), Detail: e.Detail, LinkPartnerID: e.LinkPartnerID,
		LinkAction: pal.LinkAction(e.LinkAction), CheckedBy: e.CheckedBy,
	}
	var err error
	if v.Roles, err = decodeRoles(e.RoleNames, e.Roles); err != nil {
		return v, fmt.Errorf("verdict %s/%s: RoleNames: %w", e.PartitionKey, e.RowKey, err)
	}
	if v.CheckedAt, err = parseTime(e.CheckedAt); err != nil {
		return v, fmt.Errorf("verdict %s/%s: CheckedAt: %w", e.PartitionKey, e.RowKey, err)
	}
	if v.Since, err = parseTime(e.Since); err != nil {
		return v, fmt.Errorf("verdict %s/%s: Since: %w", e.PartitionKey, e.RowKey, err)
	}
	return v, nil
}

// changeEntity is a change row.
type changeEntity struct {
	PartitionKey   string `json:"PartitionKey"`
	RowKey         string `json:"RowKey"`
	Kind           string `json:"Kind"`
	TenantID       string `json:"TenantId"`
	SubscriptionID string `json:"SubscriptionId"`
	From           string `json:"From"`
	To             string `json:"To"`
	At             string `json:"At"`
	AtType         string `json:"At@odata.type,omitempty"`
	Detail         string `json:"Detail"`
}

func changeRow(c Change) changeEntity {
	return changeEntity{
		PartitionKey: tenantPrefix + c.TenantID,
		RowKey:       changePrefix + inverted(c.At) + "_" + c.SubscriptionID + "_" + randomSuffix(),
		Kind:         kindChange, TenantID: c.TenantID, SubscriptionID: c.SubscriptionID,
		From: string(c.From), To: string(c.To), At: formatTime(c.At), AtType: edmDateTime, Detail: c.Detail,
	}
}

func (e changeEntity) change() (Change, error) {
	at, err := parseTime(e.At)
	if err != nil {
		return Change{}, fmt.Errorf("change %s/%s: At: %w", e.PartitionKey, e.RowKey, err)
	}
	return Change{TenantID: e.TenantID, SubscriptionID: e.SubscriptionID, From: pal.Status(e.From), To: pal.Status(e.To), At: at, Detail: e.Detail}, nil
}

// runEntity is a run row.
type runEntity struct {
	PartitionKey   string `json:"PartitionKey"`
	RowKey         string `json:"RowKey"`
	Kind           string `json:"Kind"`
	RunID          string `json:"RunId"`
	StartedAt      string `json:"StartedAt"`
	StartedAtType  string `json:"StartedAt@odata.type,omitempty"`
	FinishedAt     string `json:"FinishedAt,omitempty"`
	FinishedAtType string `json:"FinishedAt@odata.type,omitempty"`
	Outcome        string `json:"Outcome"`
	Summary        string `json:"Summary"` // JSON object status → count
	ItemsSent      int32  `json:"ItemsSent"`
	ItemsDone      int32  `json:"ItemsDone"`
	ItemsFailed    int32  `json:"ItemsFailed"`
	// SubscriptionsSent, Listed and NotJudged: see Run (absent in rows written before).
	SubscriptionsSent int32  `json:"SubscriptionsSent,omitempty"`
	Listed            bool   `json:"Listed,omitempty"`
	NotJudged         int32  `json:"NotJudged,omitempty"`
	ClosedRunID       string `json:"ClosedRunId,omitempty"`
	ClosedNotJudged   int32  `json:"ClosedNotJudged,omitempty"`
	Detail            string `json:"Detail"`
	// Counted is Run.Counted, an Edm.Binary property (base64 in JSON).
	Counted     string `json:"Counted,omitempty"`
	CountedType string `json:"Counted@odata.type,omitempty"`
	ETag        string `json:"odata.etag,omitempty"`
}

func runRow(r Run) (runEntity, error) {
	sum, err := json.Marshal(r.Summary)
	if err != nil {
		return runEntity{}, fmt.Errorf("run %s: summary: %w", r.ID, err)
	}
	if r.Summary == nil {
		sum = []byte("{}")
	}
	for _, n := range []int{r.ItemsSent, r.ItemsDone, r.ItemsFailed, r.SubscriptionsSent, r.NotJudged, r.ClosedNotJudged} {
		if n < 0 || n > math.MaxInt32 {
			return runEntity{}, invalid("items", "must be between 0 and 2147483647")
		}
	}
	e := runEntity{
		PartitionKey: runPartition, RowKey: runPrefix + r.ID, Kind: kindRun, RunID: r.ID,
		StartedAt: formatTime(r.StartedAt), StartedAtType: edmDateTime, Outcome: r.Outcome, Summary: string(sum),
		ItemsSent: int32(r.ItemsSent), ItemsDone: int32(r.ItemsDone), ItemsFailed: int32(r.ItemsFailed), Detail: r.Detail,
		SubscriptionsSent: int32(r.SubscriptionsSent), Listed: r.Listed, NotJudged: int32(r.NotJudged),
		ClosedRunID: r.ClosedRunID, ClosedNotJudged: int32(r.ClosedNotJudged),
	}
	if len(r.Counted) > 0 {
		e.Counted, e.CountedType = base64.StdEncoding.EncodeToString(r.Counted), edmBinary
	}
	if !r.FinishedAt.IsZero() {
		e.FinishedAt, e.FinishedAtType = formatTime(r.FinishedAt), edmDateTime
	}
	return e, nil
}

func (e runEntity) run() (Run, error) {
	r := Run{ID: e.RunID, Outcome: e.Outcome, ItemsSent: int(e.ItemsSent), ItemsDone: int(e.ItemsDone), ItemsFailed: int(e.ItemsFailed), Detail: e.Detail,
		SubscriptionsSent: int(e.SubscriptionsSent), Listed: e.Listed, NotJudged: int(e.NotJudged),
		ClosedRunID: e.ClosedRunID, ClosedNotJudged: int(e.ClosedNotJudged)}
	var err error
	if r.StartedAt, err = parseTime(e.StartedAt); err != nil {
		return r, fmt.Errorf("run %s: StartedAt: %w", e.RunID, err)
	}
	if r.FinishedAt, err = parseTime(e.FinishedAt); err != nil {
		return r, fmt.Errorf("run %s: FinishedAt: %w", e.RunID, err)
	}
	if e.Counted != "" {
		if r.Counted, err = base64.StdEncoding.DecodeString(e.Counted); err != nil {
			return r, fmt.Errorf("run %s: Counted: %w", e.RunID, err)
		}
	}
	if e.Summary != "" && e.Summary != "{}" {
		if err := json.Unmarshal([]byte(e.Summary), &r.Summary); err != nil {
			return r, fmt.Errorf("run %s: Summary: %w", e.RunID, err)
		}
	}
	return r, nil
}

// startRow is a run's index row, newest first in the run partition: a copy
// of the run row (rows written before the copy was kept hold only RunId).
func startRow(e runEntity, started time.Time) runEntity {
	e.RowKey, e.Kind, e.ETag = startPrefix+inverted(started)+"_"+e.RunID, kindStart, ""
	return e
}

// odataQuote quotes s as an OData string literal.
func odataQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// prefixRange is an OData filter on prop for the values that start with prefix
// (prefix must end in an ASCII character below '~').
func prefixRange(prop, prefix string) string {
	end := prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
	return prop + " ge " + odataQuote(prefix) + " and " + prop + " lt " + odataQuote(end)
}

// Rows of the summaries and the change index (see docs/contracts.md).
const (
	// summaryRow is the RowKey of a tenant's summary in its partition.
	summaryRow = "summary"
	// dirPartition holds a copy of every tenant's summary (RowKey
	// tenantPrefix + tenant) and the estate's totals (RowKey estateRow).
	dirPartition = "dir"
	estateRow    = "estate"
	// indexPrefix + the UTC month of the write (YYYYMM) is a partition of
	// the change index; its RowKeys are inverted time + "_" + tenant + "_" +
	// subscription + "_" + random: newest first across tenants.
	indexPrefix = "x_"
	// Kinds of rows.
	kindTenantSummary = "tenantSummary"
	kindEstate        = "estate"
	kindIndex         = "changeIndex"
)

// summaryEntity is a tenant's summary (in its partition or the directory)
// or the estate's totals.
type summaryEntity struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Kind         string `json:"Kind"`
	TenantID     string `json:"TenantId,omitempty"`
	Counts       string `json:"Counts"` // JSON object status → count
	Tenants      int32  `json:"Tenants"`
	Version      int32  `json:"Version"`
	At           string `json:"At"`
	AtType       string `json:"At@odata.type,omitempty"`
	ETag         string `json:"odata.etag,omitempty"`
}

func summaryRowOf(pk, rk, kind string, s Summary) (summaryEntity, error) {
	counts, err := json.Marshal(s.Counts)
	if err != nil {
		return summaryEntity{}, fmt.Errorf("summary of %q: %w", s.TenantID, err)
	}
	if s.Version < 0 || s.Version > math.MaxInt32 || s.Tenants < 0 || s.Tenants > math.MaxInt32 {
		return summaryEntity{}, &pal.Error{Code: pal.CodeInternal, Message: "record: a summary's version or tenant count is out of range"}
	}
	return summaryEntity{PartitionKey: pk, RowKey: rk, Kind: kind, TenantID: s.TenantID, Counts: string(counts),
		Tenants: int32(s.Tenants), Version: int32(s.Version), At: formatTime(s.At), AtType: edmDateTime}, nil
}

func (e summaryEntity) summary() (Summary, error) {
	s := Summary{TenantID: e.TenantID, Counts: newCounts(), Tenants: int(e.Tenants), Version: int(e.Version)}
	if e.Counts != "" {
		var c map[pal.Status]int
		if err := json.Unmarshal([]byte(e.Counts), &c); err != nil {
			return s, fmt.Errorf("summary %s/%s: Counts: %w", e.PartitionKey, e.RowKey, err)
		}
		addCounts(s.Counts, c)
	}
	var err error
	if s.At, err = parseTime(e.At); err != nil {
		return s, fmt.Errorf("summary %s/%s: At: %w", e.PartitionKey, e.RowKey, err)
	}
	return s, nil
}

// indexEntity is a change's row in the change index: the change row's
// properties under the index's keys, and the change row's RowKey.
type indexEntity struct {
	changeEntity
	// ChangeKey is the RowKey of the change row in the tenant's partition.
	ChangeKey string `json:"ChangeKey"`
}

// indexPartition is the index partition of changes written at t.
func indexPartition(t time.Time) string { return indexPrefix + t.UTC().Format("200601") }

func indexRow(c changeEntity, written time.Time) indexEntity {
	rk := strings.TrimPrefix(c.RowKey, changePrefix) // inverted_sub_random
	inv, rest, _ := strings.Cut(rk, "_")
	e := indexEntity{changeEntity: c, ChangeKey: c.RowKey}
	e.PartitionKey, e.RowKey, e.Kind, e.AtType = indexPartition(written), inv+"_"+c.TenantID+"_"+rest, kindIndex, edmDateTime
	return e
}
