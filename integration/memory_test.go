package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/eapserver"
	brskiradius "github.com/brski-eap/brski/radius"
	"github.com/brski-eap/brski/registrar"
)

// pendingConversations is the number of conversations that
// BenchmarkPendingConversations holds open at once. The RADIUS session
// table's default cap (radius.DefaultSessionMax) is the same.
const pendingConversations = 10000

// startInProcessRADIUS runs the registrar and its RADIUS server of a
// "brski init" lab in this process, as "brski registrar" composes them,
// so that runtime.ReadMemStats measures the server's heap.
func startInProcessRADIUS(b *testing.B, dir string) string {
	b.Helper()
	ctx := context.Background()
	cfg, err := registrar.LoadConfig(filepath.Join(dir, "registrar.hcl"))
	if err != nil {
		b.Fatal(err)
	}
	st, err := registrar.OpenStore(ctx, cfg.DataDir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	opts, err := cfg.Options(st, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	r, err := registrar.New(opts)
	if err != nil {
		b.Fatal(err)
	}

	fc, diags := eapserver.DecodeFileConfig(cfg.RADIUS.Body, cfg.RADIUS.DefRange)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	clients, err := fc.ClientTable(filepath.Dir(cfg.Filename))
	if err != nil {
		b.Fatal(err)
	}
	var pledgeCAs []*x509.Certificate
	for _, m := range opts.Manufacturers {
		pledgeCAs = append(pledgeCAs, m.CA...)
	}
	handler, err := eapserver.New(eapserver.Config{Registrar: r, RegistrarTLS: r.TLSConfig(),
		PledgeCAs: pledgeCAs, DomainCAs: opts.DomainCA.Chain, Store: st.DB, Policy: opts.Policy})
	if err != nil {
		b.Fatal(err)
	}

	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &brskiradius.Server{Clients: clients, Handler: handler}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(conn) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return conn.LocalAddr().String()
}

// liveBytes returns the heap and goroutine stack memory in use after a
// full collection.
func liveBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// clientHello returns the EAP-TLS Response with a ClientHello of a peer
// with the lab's first IDevID, then stops that peer, so that its memory is
// not counted. The server reads the certificate only in a later flight.
func clientHello(b *testing.B, dir string) []byte {
	b.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "factory", "devices", "LAB-0001",
		"idevid.pem"), filepath.Join(dir, "factory", "devices", "LAB-0001", "key.pem"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// The benchmark stops before the server's certificate arrives.
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true}
	pm, err := eapest.NewTLSPeer(ctx, eapest.TLSPeerConfig{TLS: cfg})
	if err != nil {
		b.Fatal(err)
	}
	defer pm.Close()
	peer := eap.NewPeerConversation(eap.PeerConfig{Identity: "LAB-0001",
		Methods: []eap.PeerMethod{pm}})
	if _, _, err := peer.Handle(ctx, []byte{1, 1, 0, 5, 1}); err != nil {
		b.Fatal(err)
	}
	hello, _, err := peer.Handle(ctx, []byte{1, 2, 0, 6, 13, byte(eapest.FlagStart)})
	if err != nil {
		b.Fatal(err)
	}
	return hello
}

// BenchmarkPendingConversations opens pendingConversations EAP-TLS
// conversations with the server of a "brski init" lab. It measures the live
// heap and stacks per conversation at two points. The first is after one
// round trip, when the server has sent EAP-TLS Start. The second is after
// two, when the server has sent its first TLS flight and waits for the
// peer's ACK. Run it with -benchtime=1x, because each iteration fills the
// session table.
func BenchmarkPendingConversations(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "lab")
	if out, err := runTool(b, time.Minute, brskiBin, "init", dir, "--devices", "1"); err != nil {
		b.Fatalf("brski init: %v\n%s", err, out)
	}
	secret, err := os.ReadFile(filepath.Join(dir, labSecretFile))
	if err != nil {
		b.Fatal(err)
	}
	addr := startInProcessRADIUS(b, dir)
	hello := clientHello(b, dir)
	identity, err := eap.NewIdentityResponse(1, "LAB-0001").Marshal()
	if err != nil {
		b.Fatal(err)
	}

	client := &brskiradius.Client{Timeout: 10 * time.Second, Servers: []brskiradius.ServerAddr{
		{Addr: addr, Secret: []byte(strings.TrimSuffix(string(secret), "\n"))}}}
	defer client.Close()
	ctx := context.Background()
	for b.Loop() {
		convs := make([]*pendingConversation, pendingConversations)
		for i := range convs {
			convs[i] = &pendingConversation{mac: fmt.Sprintf("02-00-00-%02X-%02X-%02X",
				byte(i>>16), byte(i>>8), byte(i))}
		}
		before := liveBytes()
		for _, step := range []struct {
			name string
			msg  []byte
		}{{"after-start", identity}, {"after-server-flight", hello}} {
			if err := advanceAll(ctx, convs, client, step.msg); err != nil {
				b.Fatal(err)
			}
			perConv := float64(liveBytes()-before) / pendingConversations
			b.ReportMetric(perConv, "B/conv-"+step.name)
		}
	}
}

// pendingConversation is the NAS side of one open conversation.
type pendingConversation struct {
	mac   string
	state []byte
	eapID uint8
}

// advance sends eapMsg for c and keeps the State and EAP Identifier of the
// Access-Challenge.
func (c *pendingConversation) advance(ctx context.Context, client *brskiradius.Client,
	eapMsg []byte) error {
	p := radius.New(radius.CodeAccessRequest, nil)
	rfc2865.UserName_SetString(p, "LAB-0001")
	rfc2865.CallingStationID_SetString(p, c.mac)
	rfc2865.FramedMTU_Set(p, 1400)
	if c.state != nil {
		rfc2865.State_Set(p, c.state)
	}
	msg := append([]byte(nil), eapMsg...)
	msg[1] = c.eapID
	if err := brskiradius.SetEAPMessage(p, msg); err != nil {
		return err
	}
	reply, err := client.Exchange(ctx, p)
	if err != nil {
		return err
	}
	if reply.Code != radius.CodeAccessChallenge {
		return fmt.Errorf("%s: %v, want Access-Challenge", c.mac, reply.Code)
	}
	eapReq, err := brskiradius.EAPMessage(reply)
	if err != nil || len(eapReq) < 2 {
		return fmt.Errorf("%s: Access-Challenge without EAP-Message: %v", c.mac, err)
	}
	c.state = append([]byte(nil), rfc2865.State_Get(reply)...)
	c.eapID = eapReq[1]
	return nil
}

// advanceAll sends eapMsg for every conversation with 32 at a time.
func advanceAll(ctx context.Context, convs []*pendingConversation,
	client *brskiradius.Client, eapMsg []byte) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(convs))
	next := make(chan *pendingConversation)
	for range 32 {
		wg.Go(func() {
			for c := range next {
				if err := c.advance(ctx, client, eapMsg); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, c := range convs {
		next <- c
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}
