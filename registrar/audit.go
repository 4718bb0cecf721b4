package registrar

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/voucher"
)

// checkVoucherLeaves checks a verified voucher against this domain and the
// pledge's request and returns the pinned-domain-cert. A nil nonce means a
// nonceless voucher is expected.
func (r *Registrar) checkVoucherLeaves(v *voucher.Voucher, serial string,
	nonce []byte) (*x509.Certificate, error) {
	if v.SerialNumber != serial {
		return nil, fmt.Errorf("the MASA voucher is for serial-number %q, not %q",
			v.SerialNumber, serial)
	}
	if !bytes.Equal(v.Nonce, nonce) {
		if nonce == nil {
			return nil, errors.New("the cached voucher has a nonce; a cached voucher " +
				"must be nonceless")
		}
		return nil, errors.New("the MASA voucher nonce does not match the nonce of the " +
			"pledge voucher request")
	}
	if !v.ExpiresOn.IsZero() && !r.now().Before(v.ExpiresOn) {
		return nil, fmt.Errorf("the MASA voucher expired on %s",
			v.ExpiresOn.Format(time.RFC3339))
	}
	for _, c := range r.cert.Chain {
		if bytes.Equal(c.Raw, v.PinnedDomainCert) {
			return c, nil
		}
	}
	if bytes.Equal(r.ca.Cert.Raw, v.PinnedDomainCert) {
		return r.ca.Cert, nil
	}
	return nil, errors.New("the MASA voucher pins a pinned-domain-cert that is neither " +
		"the domain CA nor the registrar certificate")
}

// cachedVoucher returns the nonceless voucher that was fetched in advance
// for the device. The MASA is not contacted, so no audit log is read.
func (r *Registrar) cachedVoucher(ctx context.Context, pr *pledgeRequest) obtained {
	var got obtained
	cms, err := r.opts.Store.CachedVoucher(ctx, pr.serial)
	if errors.Is(err, ErrNotFound) {
		got.problem = fmt.Sprintf("no cached nonceless voucher for serial-number %q; "+
			"fetch one from the MASA in advance", pr.serial)
		return got
	}
	if err != nil {
		got.problem = fmt.Sprintf("reading the cached voucher failed: %v", err)
		return got
	}
	v, id, err := r.verifyVoucher(cms, pr.peer.Manufacturer, pr.serial, nil)
	if err != nil {
		got.problem = "cached voucher: " + err.Error()
		return got
	}
	got.voucherCMS, got.voucher, got.domainID = cms, v, id
	return got
}

// domainID returns the domainID of a certificate as the MASA audit log
// encodes it (RFC 8995, Section 5.8.2): base64 of the key identifier.
func domainID(c *x509.Certificate) string {
	return base64.StdEncoding.EncodeToString(devid.DomainID(c))
}

// summarizeAudit describes an audit log in one line for the decision
// record: the number of events, the other domains with their latest date,
// the nonceless claims and the truncation counters.
func summarizeAudit(log *masa.AuditLog, ours string, entries []policies.AuditEntry) string {
	if log == nil {
		return "audit log not read"
	}
	var others []string
	seen := map[string]time.Time{}
	nonceless := 0
	for _, e := range entries {
		if e.Nonceless {
			nonceless++
		}
		if e.DomainID == ours {
			continue
		}
		if last, ok := seen[e.DomainID]; !ok || e.Date.After(last) {
			if !ok {
				others = append(others, e.DomainID)
			}
			seen[e.DomainID] = e.Date
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d events", len(entries))
	if len(entries) > 0 {
		fmt.Fprintf(&b, " from %s to %s", entries[0].Date.UTC().Format(time.RFC3339),
			entries[len(entries)-1].Date.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "; %d other domains", len(others))
	for i, id := range others {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s (last %s)", sep, id, seen[id].UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "; %d nonceless", nonceless)
	t := log.Truncation
	if t.NoncedDuplicates+t.NoncelessDuplicates+t.Arbitrary > 0 {
		fmt.Fprintf(&b, "; truncated %d nonced, %d nonceless, %d arbitrary",
			t.NoncedDuplicates, t.NoncelessDuplicates, t.Arbitrary)
	}
	return b.String()
}
