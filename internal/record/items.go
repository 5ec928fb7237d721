package record

// The work items of a distributed sweep are numbered 0, 1, 2, … by the
// coordinator. A run remembers which of them were counted (in ItemsDone or
// ItemsFailed) as a bitmap, so a work item delivered twice — Service Bus
// delivers at least once — is never counted twice. A bitmap keeps the run one
// small row: 10,000 work items take 1,250 bytes.

// MaxItems is the most work items one run can count: the bitmap (48 KiB) is
// stored as one Edm.Binary property, which Table Storage allows up to 64 KiB
// (as a string, its base64 would exceed the 32K characters of a string
// property).
const MaxItems = 48 << 10 * 8

// ItemCounted reports whether work item i of the run was counted.
func (r *Run) ItemCounted(i int) bool {
	if i < 0 || i/8 >= len(r.Counted) {
		return false
	}
	return r.Counted[i/8]&(1<<(i%8)) != 0
}

// CountItem marks work item i as counted and reports whether it was not
// counted before. It copies the bitmap before changing it, so a run returned
// by a Store is never changed behind its back. An index outside [0, MaxItems)
// is never counted.
func (r *Run) CountItem(i int) bool {
	if i < 0 || i >= MaxItems || r.ItemCounted(i) {
		return false
	}
	n := max(len(r.Counted), i/8+1)
	b := make([]byte, n)
	copy(b, r.Counted)
	b[i/8] |= 1 << (i % 8)
	r.Counted = b
	return true
}
