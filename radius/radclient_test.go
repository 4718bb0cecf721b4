package radius

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"
)

// TestRadclient queries the server with FreeRADIUS radclient (Debian package
// freeradius-utils), which checks the Response Authenticator and the
// Message-Authenticator of our replies with its own code.
func TestRadclient(t *testing.T) {
	path, err := exec.LookPath("radclient")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("radclient not installed; CI must install freeradius-utils")
		}
		t.Skip("radclient not installed (apt-get install freeradius-utils)")
	}
	h := &countingHandler{reply: func(req *Request) (*radius.Packet, error) {
		reply := req.Reply(radius.CodeAccessAccept)
		if err := AddVLAN(reply, "100", 0); err != nil {
			return nil, err
		}
		return reply, nil
	}}
	_, addr := startServer(t, h, nil)
	tests := []struct {
		name    string
		command string
		input   string
		want    []string
	}{
		{"status", "status", "Message-Authenticator = 0x00\n",
			[]string{"Received Access-Accept"}},
		{"auth", "auth", "User-Name = \"pledge\"\nMessage-Authenticator = 0x00\n" +
			"Proxy-State = 0x0102\n",
			[]string{"Received Access-Accept", "Tunnel-Private-Group-Id", "100",
				"Proxy-State = 0x0102"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, path, "-x", "-r", "2", "-t", "2",
				addr, tt.command, string(testSecret))
			cmd.Stdin = strings.NewReader(tt.input)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("radclient %s: %v\n%s", tt.command, err, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("radclient output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
