package record

import "testing"

func TestCountItemCountsEachItemOnce(t *testing.T) {
	var r Run
	for _, tt := range []struct {
		item int
		want bool
	}{{0, true}, {9, true}, {0, false}, {9, false}, {-1, false}, {MaxItems, false}, {MaxItems - 1, true}} {
		if got := r.CountItem(tt.item); got != tt.want {
			t.Errorf("CountItem(%d): got %v, want %v", tt.item, got, tt.want)
		}
	}
	for i, want := range map[int]bool{0: true, 9: true, 1: false, 8: false, MaxItems - 1: true, MaxItems: false} {
		if got := r.ItemCounted(i); got != want {
			t.Errorf("ItemCounted(%d): got %v, want %v", i, got, want)
		}
	}
}

func TestCountItemCopiesTheBitmap(t *testing.T) {
	stored := Run{Counted: []byte{1}}
	mine := stored
	mine.CountItem(1)
	if stored.ItemCounted(1) {
		t.Errorf("CountItem changed the bitmap of the run it was copied from")
	}
	if !mine.ItemCounted(0) || !mine.ItemCounted(1) {
		t.Errorf("got %08b, want items 0 and 1", mine.Counted)
	}
}
