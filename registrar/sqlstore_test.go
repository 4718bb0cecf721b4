package registrar

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSQLStoreCanceledContext checks that the store finishes its work for
// a request whose context ended: the statements do not watch the context,
// so a pledge that goes away cannot cut off a write that began.
func TestSQLStoreCanceledContext(t *testing.T) {
	st, err := OpenStore(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	id, err := st.RecordDecision(ctx, DecisionRecord{Time: time.Now(), DeviceSerial: "SN-1",
		Outcome: "accept", Rule: "r"})
	if err != nil {
		t.Errorf("RecordDecision: %v", err)
	}
	cert := IssuedCertificate{Serial: "0a1b", DeviceSerial: "SN-1", Fingerprint: "ff00",
		NotAfter: time.Now().Add(time.Hour), DecisionID: id}
	if err := st.RecordCertificate(ctx, cert); err != nil {
		t.Errorf("RecordCertificate: %v", err)
	}
	if _, err := st.IssuedCertificate(ctx, "0a1b"); err != nil {
		t.Errorf("IssuedCertificate: %v", err)
	}
	report := StatusReport{Time: time.Now(), Kind: "enroll", DeviceSerial: "SN-1",
		Version: 1, Status: true, Raw: []byte(`{"version":1,"status":true}`)}
	if err := st.RecordStatus(ctx, report); err != nil {
		t.Errorf("RecordStatus: %v", err)
	}
	if _, err := st.ExpectedDevice(ctx, "SN-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ExpectedDevice error = %v, want ErrNotFound", err)
	}
	if _, err := st.CachedVoucher(ctx, "SN-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CachedVoucher error = %v, want ErrNotFound", err)
	}
}
