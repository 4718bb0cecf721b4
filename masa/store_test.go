package masa

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAuditEventsLimit(t *testing.T) {
	ctx := context.Background()
	db, err := openStore(ctx, filepath.Join(t.TempDir(), "masa.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nonce := "bm9uY2U="
	for i := range 3 {
		rec := voucherRecord{SerialNumber: "SN-1",
			IssuedAt: start.Add(time.Duration(i) * time.Hour), DomainID: []byte{byte(i)},
			Assertion: "logged", RegistrarFingerprint: "ff"}
		if i == 2 {
			rec.Nonce = &nonce
		}
		if err := insertVoucher(ctx, db, rec); err != nil {
			t.Fatal(err)
		}
	}
	other := voucherRecord{SerialNumber: "SN-2", IssuedAt: start, DomainID: []byte{9},
		Assertion: "logged", RegistrarFingerprint: "ff"}
	if err := insertVoucher(ctx, db, other); err != nil {
		t.Fatal(err)
	}
	events, omitted, err := auditEvents(ctx, db, "SN-1", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []AuditEvent{
		{Date: start.Add(time.Hour), DomainID: []byte{1}, Assertion: "logged"},
		{Date: start.Add(2 * time.Hour), DomainID: []byte{2}, Nonce: &nonce, Assertion: "logged"},
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if omitted != 1 {
		t.Errorf("omitted = %d, want 1", omitted)
	}
	last, err := lastIssued(ctx, db, "SN-1")
	if err != nil {
		t.Fatal(err)
	}
	if !last.Equal(start.Add(2 * time.Hour)) {
		t.Errorf("last issued = %v, want %v", last, start.Add(2*time.Hour))
	}
	if last, err := lastIssued(ctx, db, "SN-3"); err != nil || !last.IsZero() {
		t.Errorf("last issued of an unknown device = %v, %v; want zero", last, err)
	}
}
