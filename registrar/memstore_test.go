package registrar

import (
	"context"
	"sync"
)

// memStore is an in-memory Store for unit tests.
type memStore struct {
	mu        sync.Mutex
	expected  map[string]ExpectedDevice
	cached    map[string][]byte
	decisions []DecisionRecord
	certs     map[string]IssuedCertificate
	statuses  []StatusReport
}

func newMemStore() *memStore {
	return &memStore{expected: map[string]ExpectedDevice{}, cached: map[string][]byte{},
		certs: map[string]IssuedCertificate{}}
}

func (m *memStore) ExpectedDevice(_ context.Context, serial string) (ExpectedDevice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.expected[serial]
	if !ok {
		return e, ErrNotFound
	}
	return e, nil
}

func (m *memStore) CachedVoucher(_ context.Context, serial string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.cached[serial]
	if !ok {
		return nil, ErrNotFound
	}
	return v, nil
}

func (m *memStore) RecordDecision(_ context.Context, d DecisionRecord) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.decisions = append(m.decisions, d)
	return int64(len(m.decisions)), nil
}

func (m *memStore) RecordCertificate(_ context.Context, c IssuedCertificate) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.certs[c.Serial] = c
	return nil
}

func (m *memStore) IssuedCertificate(_ context.Context, serial string) (IssuedCertificate,
	error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.certs[serial]
	if !ok {
		return c, ErrNotFound
	}
	return c, nil
}

func (m *memStore) RecordStatus(_ context.Context, s StatusReport) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statuses = append(m.statuses, s)
	return nil
}

func (m *memStore) revoke(serial string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.certs[serial]
	c.Revoked = true
	m.certs[serial] = c
}
